"""What the portal holds on a Pexip Infinity node (infinity_rules.py): the dial-string regexes,
table-driven both ways, and the desired objects for one tenant."""

import re

import pytest

from onboarding.domain import infinity_rules as rules
from onboarding.domain.calling_domains import example_dial_string
from onboarding.domain.infinity_rules import DialDomain

SHARED, ONPEXIP, OWN = "shared", "onpexip", "own"
SHORT, LONG = "short", "long"

# (option, domain, meeting ID length, prefix): every shape a customer's email can show.
CALLING_DOMAINS = [
    (SHARED, "gmeet.pexip.me", SHORT, "8000"),
    (SHARED, "gmeet.pexip.me", SHORT, "8123"),
    (SHARED, "gmeet.pexip.me", SHORT, "8999"),
    (ONPEXIP, "acme.onpexip.com", LONG, ""),
    (ONPEXIP, "acme.onpexip.com", SHORT, ""),
    (ONPEXIP, "acme.onpexip.com", SHORT, "7"),
    (ONPEXIP, "acme.onpexip.com", SHORT, "1234"),
    (OWN, "video.example.com", LONG, ""),
    (OWN, "video.example.com", SHORT, ""),
    (OWN, "video.example.com", SHORT, "42"),
    (OWN, "xn--bcher-kva.example", LONG, ""),
]


def regex_for(domain, length, prefix):
    return rules.match_string(domain=domain, meeting_id_length=length, prefix=prefix)


def routed(regex, dialled):
    """What the node would send to Meet for this alias, or None when the rule does not apply.

    re.search, not re.match: the anchors in the regex itself must do the refusing."""
    found = re.search(regex, dialled)
    return found.expand(rules.REPLACE_STRING) if found else None


def dial_variants(address):
    """The forms an endpoint may send: bare, with a URI scheme, a port, parameters."""
    user, domain = address.split("@")
    return [
        address,
        f"sip:{address}",
        f"sips:{address}",
        f"h323:{address}",
        f"{address};transport=tls",
        f"sip:{address}:5061;transport=tls",
        f"SIP:{user}@{domain.upper()}",
    ]


@pytest.mark.parametrize(("option", "domain", "length", "prefix"), CALLING_DOMAINS)
def test_it_accepts_the_dial_string_the_customers_email_shows(option, domain, length, prefix):
    regex = regex_for(domain, length, prefix)
    shown = example_dial_string(domain=domain, meeting_id_length=length, prefix=prefix)
    meeting_id = shown.split("@")[0].removeprefix(prefix)
    for dialled in dial_variants(shown):
        assert routed(regex, dialled) == meeting_id, dialled


@pytest.mark.parametrize(("option", "domain", "length", "prefix"), CALLING_DOMAINS)
def test_it_accepts_every_meeting_id_of_the_right_length(option, domain, length, prefix):
    regex = regex_for(domain, length, prefix)
    if length == LONG:
        ids = ["0000000000000", "9876543210987"]
    else:
        ids = ["1234", "98765432", "123456789012"]  # 4 to 12 digits
    for meeting_id in ids:
        assert routed(regex, f"{prefix}{meeting_id}@{domain}") == meeting_id


# Dial strings each calling domain must refuse: another tenant's prefix, another domain, a
# wrong length, anything around the address.
REFUSED = {
    ("gmeet.pexip.me", SHORT, "8123"): [
        "81241234@gmeet.pexip.me",  # another tenant's prefix
        "80001234@gmeet.pexip.me",
        "1234@gmeet.pexip.me",  # no prefix at all
        "8123123@gmeet.pexip.me",  # short ID too short
        "81231234@gmeet.pexip.me.attacker.test",
        "81231234@xgmeet.pexip.me",
        "81231234@pexip.me",
        "81231234@gmeet-pexip.me",  # the dot is a dot, not any character
        "981231234@gmeet.pexip.me",
        "8123abcd@gmeet.pexip.me",
        "8123 1234@gmeet.pexip.me",
        "81231234",
        "",
    ],
    ("acme.onpexip.com", LONG, ""): [
        "123456789012@acme.onpexip.com",  # 12 digits
        "12345678901234@acme.onpexip.com",  # 14 digits
        "1234567890123@other.onpexip.com",  # another tenant's subdomain
        "1234567890123@acme2.onpexip.com",
        "1234567890123@xacme.onpexip.com",
        "1234567890123@acme.onpexip.com.evil.test",
        "1234567890123@onpexip.com",
        "1234567890123@gmeet.pexip.me",
        "x1234567890123@acme.onpexip.com",
        "1234567890123",
    ],
    ("acme.onpexip.com", SHORT, "1234"): [
        "12341234567890123@acme.onpexip.com",  # prefix and a long ID: too long
        "1234@acme.onpexip.com",  # the prefix alone
        "43211234@acme.onpexip.com",  # another prefix
        "12341234@video.example.com",
    ],
    ("video.example.com", LONG, ""): [
        "1234567890123@example.com",
        "1234567890123@evilvideo.example.com",
        "1234567890123@video.example.com.evil",
        "1234567890123@video.example.co",
        "1234567890123@videoXexample.com",
    ],
    ("video.example.com", SHORT, "42"): [
        "1234@video.example.com",  # without its prefix
        "431234@video.example.com",
        "421234@video.example.org",
    ],
}


@pytest.mark.parametrize(
    ("domain", "length", "prefix", "dialled"),
    [(*key, dialled) for key, strings in REFUSED.items() for dialled in strings],
)
def test_it_refuses_other_tenants_and_other_domains(domain, length, prefix, dialled):
    assert routed(regex_for(domain, length, prefix), dialled) is None


def test_two_shared_tenants_never_take_each_others_calls():
    prefixes = [str(p) for p in range(8000, 9000, 37)]
    for mine in prefixes:
        regex = regex_for("gmeet.pexip.me", SHORT, mine)
        for theirs in prefixes:
            dialled = example_dial_string(
                domain="gmeet.pexip.me", meeting_id_length=SHORT, prefix=theirs
            )
            assert (routed(regex, dialled) is not None) == (mine == theirs)


def test_it_refuses_a_domain_whose_regex_the_node_cannot_hold():
    domain = ".".join(["a" * 60] * 3) + ".example"
    with pytest.raises(rules.InfinityRuleError, match="too long"):
        regex_for(domain, LONG, "")


def test_it_refuses_a_prefix_with_long_ids_and_a_prefix_that_is_not_digits():
    with pytest.raises(rules.InfinityRuleError):
        regex_for("acme.onpexip.com", LONG, "12")
    with pytest.raises(rules.InfinityRuleError):
        regex_for("acme.onpexip.com", SHORT, "1.*")


# The desired state ------------------------------------------------------------------------------


def domain(id, option=ONPEXIP, name="acme.onpexip.com", length=LONG, prefix="", verified=False):
    return DialDomain(id, name, option, length, prefix, verified)


def state(domains, *, serve=True, enable=True, priority=50):
    return rules.desired_state(7, domains, serve=serve, enable=enable, priority=priority)


def test_a_served_tenant_gets_one_named_token_and_one_tagged_rule_per_domain():
    desired = state([domain(3), domain(9, SHARED, "gmeet.pexip.me", SHORT, "8123")])
    assert desired.token == rules.DesiredToken(name="meet-portal-7")
    assert [r.tag for r in desired.rules] == ["meet-portal-7-3", "meet-portal-7-9"]
    assert [r.domain for r in desired.rules] == ["acme.onpexip.com", "gmeet.pexip.me"]


def test_own_domains_get_a_rule_only_once_verified():
    desired = state(
        [domain(1, OWN, "video.example.com"), domain(2, OWN, "meet.example.org", verified=True)]
    )
    assert [r.domain for r in desired.rules] == ["meet.example.org"]


def test_a_suspended_tenant_keeps_its_token_and_disabled_rules():
    desired = state([domain(3)], enable=False)
    assert desired.token is not None
    assert [r.enable for r in desired.rules] == [False]


def test_a_tenant_not_served_gets_nothing_on_the_node():
    assert state([domain(3)], serve=False) == rules.DesiredState(token=None, rules=())


def test_a_rule_routes_to_google_meet_with_the_tenants_token():
    rule = state([domain(3)]).rules[0]
    body = rule.body("/api/admin/configuration/v1/gms_access_token/12/")
    assert body["called_device_type"] == "gms_conference"
    assert body["outgoing_protocol"] == "gms"
    assert body["gms_access_token"] == "/api/admin/configuration/v1/gms_access_token/12/"
    assert body["treat_as_trusted"] is True
    assert body["match_incoming_calls"] is True
    assert (body["priority"], body["replace_string"], body["tag"]) == (50, r"\1", rule.tag)
    assert "token" not in body


def test_differences_name_only_what_was_edited_on_the_node():
    rule = state([domain(3)]).rules[0]
    uri = "/api/admin/configuration/v1/gms_access_token/12/"
    on_node = {**rule.body(uri), "id": 4, "resource_uri": "/x/4/", "creation_time": "now"}
    assert rule.differences(on_node, uri) == {}
    on_node["enable"] = False
    on_node["gms_access_token"] = "/api/admin/configuration/v1/gms_access_token/13/"
    assert rule.differences(on_node, uri) == {"enable": True, "gms_access_token": uri}


@pytest.mark.parametrize("priority", [0, 201, -1])
def test_it_refuses_a_priority_the_node_cannot_hold(priority):
    with pytest.raises(rules.InfinityRuleError, match="priority"):
        state([domain(3)], priority=priority)


def test_names_and_tags_parse_back_and_other_objects_are_not_the_portals():
    assert rules.parse_token_name("meet-portal-7") == 7
    assert rules.parse_rule_tag("meet-portal-7-3") == (7, 3)
    for foreign in ["meet-portal-", "meet-portal-07", "other-7", "meet-portal-7-3", "Trusted"]:
        assert rules.parse_token_name(foreign) is None
    for foreign in [
        "meet-portal-7",
        "meet-portal-7-",
        "x-meet-portal-7-3",
        "",
        "meet-portal-7-3-1",
    ]:
        assert rules.parse_rule_tag(foreign) is None


def test_one_tenants_tag_prefix_is_not_another_tenants():
    assert not rules.rule_tag(12, 5).startswith(rules.tenant_rule_tag_prefix(1))
    assert rules.rule_tag(1, 5).startswith(rules.tenant_rule_tag_prefix(1))


def test_it_refuses_an_object_prefix_that_is_not_a_plain_label():
    for bad in ["", "Meet", "meet portal", "a" * 21, "meet.*"]:
        with pytest.raises(rules.InfinityRuleError):
            rules.token_name(1, object_prefix=bad)


def test_drift_is_judged_on_every_field_the_portal_sets():
    [rule] = rules.desired_state(
        7,
        [DialDomain(3, "acme.onpexip.com", "onpexip", "long", "", True)],
        serve=True,
        enable=True,
        priority=100,
    ).rules

    assert set(rule.body("/token/1/")) == set(rules.MANAGED_RULE_FIELDS)
