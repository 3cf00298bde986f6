"""Verdicts per record (domain.md, "DNS for own domains") against a real DNS server on loopback."""

import time

import dns.name
import dns.resolver
import pytest

from onboarding.dns import lookups as dns_lookup
from onboarding.dns import verdicts as portal_dns
from onboarding.domain import dns_records, domain_names
from onboarding.models import DnsVerdict, DomainVerdict

DOMAIN = "video.acme.test"
GATEWAY = "gw.provider.test"
CODE = "0123abcd"
OWNERSHIP = "pexip-verification="
LABELS = ("_sips", "_sip", "_h323cs", "_pexip-verification")


def records(domain=DOMAIN, target=f"{GATEWAY}.", code=CODE):
    return {
        "_sips": f"_sips._tcp.{domain}. 60 IN SRV 10 10 5061 {target}",
        "_sip": f"_sip._tcp.{domain}. 60 IN SRV 10 10 5060 {target}",
        "_h323cs": f"_h323cs._tcp.{domain}. 60 IN SRV 10 10 1720 {target}",
        "_pexip-verification": f'_pexip-verification.{domain}. 60 IN TXT "{OWNERSHIP}{code}"',
    }


def publish(server, *, skip=(), **kwargs):
    server.add(*(line for label, line in records(**kwargs).items() if label not in skip))


def check(domain=DOMAIN, sip_host=GATEWAY, code=CODE):
    return portal_dns.domain_check(domain=domain, sip_host=sip_host, ownership_code=code)


def by_label(result):
    return {r.expected.name.split(".", 1)[0]: r for r in result.records}


def verdicts(result):
    return {label: r.verdict for label, r in by_label(result).items()}


def test_a_domain_with_every_record_right_is_ok(dns_server):
    publish(dns_server)

    result = check()

    assert result.verdict == DomainVerdict.OK
    assert set(verdicts(result).values()) == {DnsVerdict.OK}
    assert by_label(result)["_sip"].found == ("10 10 5060 gw.provider.test.",)


@pytest.mark.parametrize("label", LABELS)
def test_each_missing_record_is_missing_and_the_customer_must_act(dns_server, label):
    publish(dns_server, skip=[label])

    result = check()

    assert verdicts(result) == {other: "missing" if other == label else "ok" for other in LABELS}
    assert result.verdict == DomainVerdict.CUSTOMER_MUST_ACT


def test_a_record_pointing_at_another_host_is_a_mismatch_showing_what_was_found(dns_server):
    publish(dns_server, target="old-gw.provider.test.")

    result = by_label(check())["_sips"]

    assert result.verdict == DnsVerdict.MISMATCH
    assert result.found == ("10 10 5061 old-gw.provider.test.",)


def test_a_record_with_the_wrong_port_is_a_mismatch(dns_server):
    publish(dns_server, skip=["_sip"])
    dns_server.add(f"_sip._tcp.{DOMAIN}. 60 IN SRV 10 10 5070 {GATEWAY}.")

    assert verdicts(check())["_sip"] == DnsVerdict.MISMATCH


def test_extra_records_beside_the_right_one_are_fine_and_priority_is_not_judged(dns_server):
    publish(dns_server, skip=["_sip"])
    dns_server.add(
        f"_sip._tcp.{DOMAIN}. 60 IN SRV 0 0 5060 backup.provider.test.",
        f"_sip._tcp.{DOMAIN}. 60 IN SRV 99 1 5060 {GATEWAY}.",
    )

    result = by_label(check())["_sip"]

    assert result.verdict == DnsVerdict.OK
    assert len(result.found) == 2


def test_a_name_that_does_not_exist_is_missing(dns_server):
    result = by_label(check())["_sips"]

    assert result.verdict == DnsVerdict.MISSING
    assert result.detail == "no such name"


def test_a_name_without_an_srv_record_is_missing(dns_server):
    publish(dns_server, skip=["_h323cs"])
    dns_server.add(f'_h323cs._tcp.{DOMAIN}. 60 IN TXT "not an SRV record"')

    result = by_label(check())["_h323cs"]

    assert result.verdict == DnsVerdict.MISSING
    assert result.detail == "no SRV record at this name"


def test_a_cname_to_the_right_records_is_followed_and_ok(dns_server):
    publish(dns_server, skip=["_sip"])
    dns_server.add(
        f"_sip._tcp.{DOMAIN}. 60 IN CNAME _sip._tcp.provider.test.",
        f"_sip._tcp.provider.test. 60 IN SRV 10 10 5060 {GATEWAY}.",
    )

    result = by_label(check())["_sip"]

    assert result.verdict == DnsVerdict.OK
    assert result.found[0] == "CNAME _sip._tcp.provider.test."


def test_a_cname_that_leads_nowhere_is_missing(dns_server):
    publish(dns_server, skip=["_sip"])
    dns_server.add(f"_sip._tcp.{DOMAIN}. 60 IN CNAME gone.provider.test.")

    result = by_label(check())["_sip"]

    assert result.verdict == DnsVerdict.MISSING
    assert result.found == ("CNAME gone.provider.test.",)
    assert result.detail == "the CNAME leads to a name that does not exist"


def test_a_cname_to_wrong_records_is_a_mismatch_showing_the_cname(dns_server):
    publish(dns_server, skip=["_sip"])
    dns_server.add(
        f"_sip._tcp.{DOMAIN}. 60 IN CNAME _sip._tcp.other.test.",
        "_sip._tcp.other.test. 60 IN SRV 10 10 5060 sip.other.test.",
    )

    result = by_label(check())["_sip"]

    assert result.verdict == DnsVerdict.MISMATCH
    assert result.found == ("CNAME _sip._tcp.other.test.", "10 10 5060 sip.other.test.")


def test_a_cname_chain_that_loops_is_missing(dns_server):
    publish(dns_server, skip=["_sip"])
    dns_server.add(
        f"_sip._tcp.{DOMAIN}. 60 IN CNAME loop.acme.test.",
        f"loop.acme.test. 60 IN CNAME _sip._tcp.{DOMAIN}.",
    )

    assert verdicts(check())["_sip"] == DnsVerdict.MISSING


@pytest.mark.parametrize(
    ("published", "configured"),
    [
        ("GW.Provider.TEST.", GATEWAY),
        (f"{GATEWAY}.", "Gw.Provider.Test."),
        (f"{GATEWAY}.", GATEWAY),
    ],
)
def test_targets_match_in_any_case_with_or_without_the_trailing_dot(
    dns_server, published, configured
):
    publish(dns_server, target=published)

    assert check(sip_host=configured).verdict == DomainVerdict.OK


def test_a_multi_string_txt_record_is_joined(dns_server):
    publish(dns_server, skip=["_pexip-verification"])
    dns_server.add(f'_pexip-verification.{DOMAIN}. 60 IN TXT "pexip-veri" "fication=" "{CODE}"')

    assert verdicts(check())["_pexip-verification"] == DnsVerdict.OK


def test_the_ownership_record_is_also_accepted_at_the_domain_itself(dns_server):
    publish(dns_server, skip=["_pexip-verification"])
    dns_server.add(
        f'{DOMAIN}. 60 IN TXT "v=spf1 -all"', f'{DOMAIN}. 60 IN TXT "pexip-verification={CODE}"'
    )

    assert verdicts(check())["_pexip-verification"] == DnsVerdict.OK


def test_an_ownership_record_with_another_code_is_a_mismatch(dns_server):
    publish(dns_server, code="an-old-code")

    result = by_label(check())["_pexip-verification"]

    assert result.verdict == DnsVerdict.MISMATCH
    assert result.found == ('"pexip-verification=an-old-code"',)


def test_an_idn_domain_is_queried_in_its_stored_ascii_form(dns_server):
    domain = domain_names.normalize_domain_name("video.bücher.example")
    publish(dns_server, domain=domain)

    result = check(domain=domain)

    assert domain == "video.xn--bcher-kva.example"
    assert result.verdict == DomainVerdict.OK
    assert dns_server.query_count(f"_sip._tcp.{domain}", "SRV") == 1


def test_a_long_answer_truncated_over_udp_is_fetched_over_tcp(dns_server):
    publish(dns_server)
    dns_server.add(
        *(f"_sip._tcp.{DOMAIN}. 60 IN SRV 20 {n} 5060 backup-{n}.provider.test." for n in range(20))
    )

    result = by_label(check())["_sip"]

    assert result.verdict == DnsVerdict.OK
    assert len(result.found) == 21


def test_a_server_that_never_answers_gives_unknown_within_the_lifetime(silent_dns_server):
    started = time.monotonic()
    result = check()

    assert set(verdicts(result).values()) == {DnsVerdict.UNKNOWN}
    assert result.verdict == DomainVerdict.UNKNOWN
    assert "timeout" in by_label(result)["_sip"].detail
    assert time.monotonic() - started < 5 * 0.25 + 1  # five lookups, each bounded by the lifetime


def test_a_server_answering_servfail_gives_unknown(servfail_dns_server):
    result = check()

    assert result.verdict == DomainVerdict.UNKNOWN
    assert by_label(result)["_sips"].detail == "SERVFAIL from 127.0.0.1"


def test_missing_beside_unknown_means_the_customer_must_act(dns_server):
    publish(dns_server, skip=["_sip"])
    dns_server.servfail(f"_sips._tcp.{DOMAIN}")

    result = check()

    assert verdicts(result)["_sips"] == DnsVerdict.UNKNOWN
    assert verdicts(result)["_sip"] == DnsVerdict.MISSING
    assert result.verdict == DomainVerdict.CUSTOMER_MUST_ACT


def test_a_domain_no_tenant_owns_reports_the_ownership_record_as_not_applicable(dns_server):
    publish(dns_server, skip=["_pexip-verification"])

    result = check(code=None)

    assert verdicts(result)["_pexip-verification"] == DnsVerdict.NOT_APPLICABLE
    assert result.verdict == DomainVerdict.OK


def test_the_authoritative_servers_are_found_at_the_zone_cut(dns_server):
    dns_server.add("acme.test. 60 IN NS ns1.acme.test.", "ns1.acme.test. 60 IN A 127.0.0.1")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = ["127.0.0.1"], dns_server.port

    servers = dns_lookup.authoritative_servers(
        dns.name.from_text(f"_sip._tcp.{DOMAIN}"),
        timeout=1,
        deadline=time.monotonic() + 2,
        resolver=resolver,
    )

    assert servers == ("127.0.0.1",)
    assert dns_server.query_count("acme.test", "NS") == 1


def test_the_expected_srv_records_come_from_the_setting(settings):
    settings.DNS_EXPECTED_SRV_RECORDS = ["_sip._udp:5062"]

    expected = dns_records.expected_records(domain=DOMAIN, sip_host=GATEWAY, ownership_code=CODE)

    assert [(r.name, r.rdtype, r.value) for r in expected] == [
        (f"_sip._udp.{DOMAIN}.", "SRV", f"port 5062 target {GATEWAY}."),
        (f"_pexip-verification.{DOMAIN}.", "TXT", f'"pexip-verification={CODE}"'),
    ]


def test_a_malformed_expected_srv_setting_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.DNS_EXPECTED_SRV_RECORDS = ["_sip._tcp"]

    with pytest.raises(ImproperlyConfigured, match="label:port"):
        dns_records.expected_srv_specs()


@pytest.mark.parametrize(
    ("verdict", "found", "hint"),
    [
        ("ok", [], "This record is in place."),
        ("missing", [], f"Add this record: _sip._tcp.{DOMAIN}. 3600 IN SRV 10 10 5060 {GATEWAY}."),
        (
            "mismatch",
            ["10 10 5060 old.provider.test."],
            f"This record points to old.provider.test on port 5060; it must point to {GATEWAY} "
            "on port 5060.",
        ),
    ],
)
def test_fix_hints_say_in_plain_words_what_to_do(verdict, found, hint):
    record = dns_records.expected_records(domain=DOMAIN, sip_host=GATEWAY, ownership_code=CODE)[1]

    assert portal_dns.fix_hint(record, verdict, found) == hint


def test_the_ownership_hint_says_the_record_must_stay():
    record = dns_records.expected_records(domain=DOMAIN, sip_host=GATEWAY, ownership_code=CODE)[-1]

    assert "must stay" in portal_dns.fix_hint(record, "ok", [])
    assert "must stay" in portal_dns.fix_hint(record, "missing", [])
