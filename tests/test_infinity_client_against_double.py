"""The portal's Management API client and desired rules against the Management Node double:
both were written from Pexip's published API by different hands, so here they must agree.
Real HTTPS on loopback, verified with the test run's CA, with REQUESTS_CA_BUNDLE pointing
elsewhere (as on these machines)."""

from __future__ import annotations

import pytest

from onboarding.domain.calling_domains import CallingDomainOption
from onboarding.domain.infinity_rules import DialDomain, desired_state
from onboarding.gateways.infinity_client import (
    InfinityClient,
    NotFound,
    Rejected,
    Resource,
    Transient,
    Unauthorized,
)

TOKEN = "client-against-double-token-0123456789"


@pytest.fixture
def client(infinity_node, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    node = InfinityClient(
        manager_url=f"https://127.0.0.1:{infinity_node.port}",
        username=infinity_node.username,
        password=infinity_node.password,
        ca_bundle=str(infinity_node.ca_bundle),
        page_size=2,
    )
    yield node
    node.close()


def acme_state():
    domains = [
        DialDomain(1, "acme.onpexip.com", CallingDomainOption.ONPEXIP, "long", "", True),
        DialDomain(2, "video.acme.test", CallingDomainOption.OWN, "short", "7", True),
    ]
    return desired_state(42, domains, serve=True, enable=True, priority=50)


def test_a_tenants_token_and_rules_are_created_and_read_back(client, infinity_node):
    state = acme_state()

    token = client.create_token(name=state.token.name, token=TOKEN)
    for rule in state.rules:
        client.create(Resource.GATEWAY_ROUTING_RULE, rule.body(token.uri))

    tokens = client.list_tokens(name_prefix=state.token.name)
    rules = client.list_rules(tag_prefix="meet-portal-42-")
    assert [t["name"] for t in tokens] == [state.token.name]
    assert "token" not in tokens[0] or not tokens[0]["token"]  # never returned on read
    assert infinity_node.token_matches(token.uri, TOKEN)
    assert sorted(r["tag"] for r in rules) == sorted(r.tag for r in state.rules)
    for rule in state.rules:
        node_rule = next(r for r in rules if r["tag"] == rule.tag)
        assert rule.differences(node_rule, token.uri) == {}


def test_the_node_refuses_to_delete_a_token_its_rules_still_use(client):
    state = acme_state()
    token = client.create_token(name=state.token.name, token=TOKEN)
    client.create(Resource.GATEWAY_ROUTING_RULE, state.rules[0].body(token.uri))

    with pytest.raises(Rejected):
        client.delete(Resource.GMS_ACCESS_TOKEN, token.id)


def test_a_full_licence_is_a_rejection_with_the_nodes_message(client, infinity_node):
    infinity_node.licence_full(tokens=0)

    with pytest.raises(Rejected) as refused:
        client.create_token(name="meet-portal-1", token=TOKEN)

    assert "licence" in str(refused.value).lower()
    assert TOKEN not in str(refused.value)


def test_wrong_credentials_unavailability_and_missing_objects_are_told_apart(client, infinity_node):
    infinity_node.fail_next(1, status=503)
    with pytest.raises(Transient):
        client.list_tokens()
    with pytest.raises(NotFound):
        client.get(Resource.GMS_ACCESS_TOKEN, 999_999)
    client.password = "wrong"
    client.session.auth = (client.username, "wrong")
    with pytest.raises(Unauthorized):
        client.list_tokens()
