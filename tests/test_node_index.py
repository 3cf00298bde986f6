"""The drift sweep's compact index of a node: it finds every difference the portal cares
about, and none it does not. Pure: node objects as the API answers them."""

from __future__ import annotations

from onboarding.domain.infinity_rules import DialDomain, desired_state
from onboarding.gateways.node_index import NodeIndex

TOKEN_URI = "/api/admin/configuration/v1/gms_access_token/5/"


def acme(*, enable: bool = True):
    domains = [
        DialDomain(3, "acme.onpexip.com", "onpexip", "long", "", True),
        DialDomain(4, "video.acme.test", "own", "short", "7", True),
    ]
    return desired_state(42, domains, serve=True, enable=enable, priority=50)


def node_objects(desired, *, token_uri=TOKEN_URI):
    tokens = [{"id": 5, "name": desired.token.name, "resource_uri": token_uri}]
    rules = [
        {"id": 10 + n, "resource_uri": f"/rule/{n}/", **rule.body(token_uri), "creation_time": "x"}
        for n, rule in enumerate(desired.rules)
    ]
    return tokens, rules


def test_a_node_that_holds_exactly_the_desired_objects_does_not_differ():
    desired = acme()
    tokens, rules = node_objects(desired, token_uri="https://node.test" + TOKEN_URI)

    index = NodeIndex.build(tokens, rules)

    assert not index.differs(42, desired, value_outdated=False)
    assert index.differs(42, desired, value_outdated=True)  # the value must travel


def test_each_kind_of_drift_is_seen():
    desired = acme()
    tokens, rules = node_objects(desired)
    edited = [{**rules[0], "match_string": ".*"}, rules[1]]
    missing = rules[:1]
    duplicated = [*rules, {**rules[0], "id": 99}]
    other_token = [{**rules[0], "gms_access_token": "/api/x/gms_access_token/6/"}, rules[1]]

    for node_rules in (edited, missing, duplicated, other_token):
        assert NodeIndex.build(tokens, node_rules).differs(42, desired, value_outdated=False)
    assert NodeIndex.build([], rules).differs(42, desired, value_outdated=False)
    assert NodeIndex.build(tokens, rules).differs(42, acme(enable=False), value_outdated=False)


def test_objects_the_portal_did_not_name_are_not_indexed():
    tokens, rules = node_objects(acme())
    theirs_token = {"id": 1, "name": "made-by-staff", "resource_uri": "/t/1/"}
    theirs_rule = {**rules[0], "id": 2, "tag": "staff"}

    index = NodeIndex.build([*tokens, theirs_token], [*rules, theirs_rule])

    assert index.tenant_ids() == {42}
    assert not index.differs(42, acme(), value_outdated=False)
