"""Scheduling DNS checks in the database (architecture.md, "DNS checks") against a real DNS
server: backoff, verification, drift, the 7-day email, auto-enable and concurrent sweepers.
Time moves by passing `now`, never by sleeping."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from onboarding.dns import sweep as dns_checks
from onboarding.mail import outbox
from onboarding.models import (
    AuditEvent,
    CallingDomain,
    DnsCheck,
    EmailKind,
    OutboundEmail,
    Tenant,
    TenantStatus,
)
from onboarding.services import lifecycle, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 1, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def own_tenant(name="Acme", domain="video.acme.test", now=NOW, **kwargs):
    return tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name.lower()}.test",
        calling_domains=[CallingDomainSpec(option="own", domain=domain)],
        actor=Actor.system("test"),
        now=now,
        **kwargs,
    ).tenant


def own_domain(tenant):
    return CallingDomain.objects.select_related("tenant__gateway").get(tenant=tenant, option="own")


def publish(server, calling_domain, skip=()):
    """The records exactly as the instructions tell the customer to add them."""
    for record in calling_domain.expected_records():
        if not record.name.startswith(tuple(skip)):
            server.add(record.zone_line)


def sweep_when_due(calling_domain):
    calling_domain.refresh_from_db()
    return dns_checks.dns_sweep(now=calling_domain.next_check_at)


def verified_active_domain(server):
    tenant = own_tenant()
    domain = own_domain(tenant)
    publish(server, domain)
    dns_checks.dns_sweep(now=NOW)
    Tenant.objects.filter(pk=tenant.pk).update(status=TenantStatus.ACTIVE)
    domain.refresh_from_db()
    assert domain.verified_at == NOW
    return domain


def emails(kind):
    return list(OutboundEmail.objects.filter(kind=kind))


def test_a_new_own_domain_is_due_for_its_first_check_at_once():
    domain = own_domain(own_tenant())

    assert domain.next_check_at == NOW
    assert domain.dns_pending_since == NOW
    assert domain.verified_at is None


def test_a_sweep_verifies_a_domain_whose_records_are_right(dns_server):
    tenant = own_tenant()
    publish(dns_server, own_domain(tenant))

    result = dns_checks.dns_sweep(now=NOW)

    domain = own_domain(tenant)
    assert (result.checked, result.verified) == (1, 1)
    assert domain.verified_at == NOW
    assert domain.next_check_at == NOW + dns_checks.RECHECK_VERIFIED
    assert set(DnsCheck.objects.values_list("verdict", flat=True)) == {"ok"}
    assert (
        lifecycle.status_label(Tenant.objects.get(pk=tenant.pk)) == "DNS verified, awaiting enable"
    )
    assert AuditEvent.objects.filter(tenant=tenant, action="dns_verified").count() == 1


def test_an_unverified_domain_backs_off_1_2_5_15_30_60_minutes_then_hourly(dns_server):
    domain = own_domain(own_tenant())
    waits = []

    for _check in range(8):
        checked_at = domain.next_check_at
        sweep_when_due(domain)
        domain.refresh_from_db()
        waits.append((domain.next_check_at - checked_at) / timedelta(minutes=1))

    assert waits == [1, 2, 5, 15, 30, 60, 60, 60]


def test_a_domain_fixed_while_the_backoff_runs_is_verified_at_its_next_due_check(dns_server):
    domain = own_domain(own_tenant())
    dns_checks.dns_sweep(now=NOW)
    publish(dns_server, domain)

    early = dns_checks.dns_sweep(now=NOW + timedelta(seconds=30))
    due = sweep_when_due(domain)

    domain.refresh_from_db()
    assert (early.checked, due.verified) == (0, 1)
    assert domain.verified_at == NOW + timedelta(minutes=1)


def test_each_check_rewrites_the_domains_rows_instead_of_adding_more(dns_server):
    domain = own_domain(own_tenant())
    dns_checks.dns_sweep(now=NOW)
    publish(dns_server, domain)

    sweep_when_due(domain)

    assert DnsCheck.objects.filter(calling_domain=domain).count() == 4
    assert set(DnsCheck.objects.values_list("checked_at", flat=True)) == {
        NOW + timedelta(minutes=1)
    }


def test_a_later_check_rewrites_each_rows_verdict_and_what_was_found(dns_server):
    domain = own_domain(own_tenant())
    dns_checks.dns_sweep(now=NOW)
    first = dict(DnsCheck.objects.values_list("record_name", "verdict"))
    publish(dns_server, domain)

    sweep_when_due(domain)

    rows = list(DnsCheck.objects.filter(calling_domain=domain))
    assert "ok" not in first.values()
    assert {row.record_name for row in rows} == set(first)
    assert {row.verdict for row in rows} == {"ok"} and all(row.found for row in rows)


def test_checking_now_checks_exactly_the_domains_listed_and_an_empty_list_none(dns_server):
    listed = [
        own_domain(own_tenant(name, f"video.{name.lower()}.test")) for name in ("Acme", "Initech")
    ]
    own_tenant("Globex", "video.globex.test")  # due as well, but not listed

    assert dns_checks.calling_domains_check_now([], now=NOW) == []
    assert not DnsCheck.objects.exists()
    checked = dns_checks.calling_domains_check_now(listed, now=NOW)

    assert [domain.pk for domain, _check in checked] == [domain.pk for domain in listed]
    assert set(DnsCheck.objects.values_list("calling_domain_id", flat=True)) == {
        domain.pk for domain in listed
    }


def test_the_rows_keep_the_check_time_to_the_microsecond(dns_server):
    domain = own_domain(own_tenant())
    now = NOW + timedelta(microseconds=123456)

    dns_checks.dns_sweep(now=now)

    checked = DnsCheck.objects.filter(calling_domain=domain).values_list("checked_at", flat=True)
    assert list(checked) == [now] * 4


def test_domains_of_a_sweep_that_died_after_claiming_are_checked_after_the_lease(dns_server):
    domain = own_domain(own_tenant())
    dns_checks._claim(now=NOW, limit=10)  # a sweep that claimed, then its worker died

    soon = dns_checks.dns_sweep(now=NOW + timedelta(minutes=1))
    later = dns_checks.dns_sweep(now=NOW + dns_checks.CLAIM_LEASE)

    assert (soon.checked, later.checked) == (0, 1)
    assert DnsCheck.objects.filter(calling_domain=domain).exists()


def test_a_check_that_fails_inside_leaves_the_domain_unknown_and_the_sweep_goes_on(
    dns_server, settings, caplog
):
    domain = own_domain(own_tenant())
    settings.DNS_EXPECTED_SRV_RECORDS = ["not-a-label-and-port"]

    result = dns_checks.dns_sweep(now=NOW)

    domain.refresh_from_db()
    assert (result.checked, result.unknown) == (1, 1)
    assert domain.verified_at is None
    assert domain.next_check_at == NOW + timedelta(minutes=1)
    assert "checking the DNS of video.acme.test failed" in caplog.text


def test_an_offboarded_tenants_domain_is_never_checked(dns_server):
    tenant = own_tenant()
    Tenant.objects.filter(pk=tenant.pk).update(status=TenantStatus.OFFBOARDED)

    assert dns_checks.dns_sweep(now=NOW).checked == 0


def test_two_definitive_failures_in_a_row_flag_drift_and_tell_staff_once(dns_server, smtp_sink):
    domain = verified_active_domain(dns_server)
    dns_server.remove(f"_sip._tcp.{domain.domain}")

    sweep_when_due(domain)
    assert emails(EmailKind.DNS_DRIFT) == []
    sweep_when_due(domain)
    sweep_when_due(domain)

    domain.refresh_from_db()
    assert domain.drift_flagged_at is not None and domain.verified_at == NOW
    [row] = emails(EmailKind.DNS_DRIFT)
    outbox.email_send([row.pk], now=row.next_attempt_at)
    [message] = smtp_sink.messages
    assert message["To"] == "staff@provider.test" and "video.acme.test" in message["Subject"]
    for part in (message.get_body(("plain",)), message.get_body(("html",))):
        assert f"_sip._tcp.{domain.domain}." in part.get_content()
        assert "missing" in part.get_content()
        assert "support@provider.test" in part.get_content()


def test_an_unknown_verdict_never_counts_as_a_failure_nor_unverifies(dns_server):
    domain = verified_active_domain(dns_server)
    dns_server.remove(f"_sip._tcp.{domain.domain}")
    sweep_when_due(domain)
    for record in domain.expected_records():
        dns_server.servfail(record.name)

    sweep_when_due(domain)

    domain.refresh_from_db()
    assert domain.dns_failures_in_a_row == 1
    assert domain.drift_flagged_at is None
    assert domain.verified_at == NOW
    assert emails(EmailKind.DNS_DRIFT) == []


def test_records_that_come_back_clear_the_drift_flag(dns_server):
    domain = verified_active_domain(dns_server)
    dns_server.remove(f"_sip._tcp.{domain.domain}")
    sweep_when_due(domain)
    sweep_when_due(domain)
    publish(dns_server, domain, skip=["_sips", "_h323cs", "_pexip"])

    sweep_when_due(domain)

    domain.refresh_from_db()
    assert domain.drift_flagged_at is None
    assert domain.dns_failures_in_a_row == 0
    assert domain.next_check_at - NOW > dns_checks.RECHECK_VERIFIED


def test_staff_are_told_once_when_a_domain_is_still_unverified_after_7_days(dns_server, smtp_sink):
    domain = own_domain(own_tenant(now=NOW - timedelta(days=7)))
    domain.next_check_at = NOW
    domain.save()

    dns_checks.dns_sweep(now=NOW)
    sweep_when_due(domain)

    [row] = emails(EmailKind.DNS_NOT_VERIFIED)
    outbox.email_send([row.pk], now=row.next_attempt_at)
    [message] = smtp_sink.messages
    assert message["Subject"] == "DNS not verified after 7 days: video.acme.test (Acme)"
    for part in (message.get_body(("plain",)), message.get_body(("html",))):
        assert "still not verified" in part.get_content()
        assert f"_sips._tcp.{domain.domain}." in part.get_content()
        assert "support@provider.test" in part.get_content()


def test_staff_are_not_told_before_7_days(dns_server):
    domain = own_domain(own_tenant(now=NOW - timedelta(days=6, hours=23)))
    domain.next_check_at = NOW
    domain.save()

    dns_checks.dns_sweep(now=NOW)

    assert emails(EmailKind.DNS_NOT_VERIFIED) == []


def test_a_tenant_that_chose_auto_enable_is_invited_once_dns_verifies(dns_server):
    tenant = own_tenant(enable_when_dns_verified=True)
    publish(dns_server, own_domain(tenant))

    dns_checks.dns_sweep(now=NOW)

    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.INVITED
    assert len(emails(EmailKind.INITIAL)) == 1
    assert AuditEvent.objects.get(tenant=tenant, action="enabled").actor_label == "DNS check"


def test_auto_enable_waits_until_every_own_domain_is_verified(dns_server):
    tenant = tenant_creation.tenant_create(
        name="Acme",
        main_contact_email="it@acme.test",
        calling_domains=[
            CallingDomainSpec(option="own", domain="video.acme.test"),
            CallingDomainSpec(option="own", domain="meet.acme.test"),
        ],
        actor=Actor.system("test"),
        enable_when_dns_verified=True,
        now=NOW,
    ).tenant
    first, second = CallingDomain.objects.filter(tenant=tenant).order_by("domain")
    publish(dns_server, first)
    dns_checks.dns_sweep(now=NOW)
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.DNS_PENDING

    publish(dns_server, second)
    sweep_when_due(second)

    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.INVITED


def test_a_renamed_own_domain_waits_for_dns_again_from_that_moment(dns_server):
    domain = verified_active_domain(dns_server)
    later = NOW + timedelta(days=3)

    domain.domain = "meet.acme.test"
    tenant_creation.calling_domain_save(domain, now=later)

    domain.refresh_from_db()
    assert domain.verified_at is None
    assert domain.next_check_at == domain.dns_pending_since == later


def test_the_status_table_gives_plain_fix_hints(dns_server):
    tenant = own_tenant()
    domain = own_domain(tenant)
    publish(dns_server, domain, skip=["_sips"])
    dns_server.add(f"_sips._tcp.{domain.domain}. 60 IN SRV 10 10 5061 old.provider.test.")

    dns_checks.dns_sweep(now=NOW)

    hints = {row.name.split(".")[0]: row.hint for row in dns_checks.dns_status_table(domain)}
    assert hints["_sips"] == (
        "This record points to old.provider.test on port 5061; it must point to "
        "gateway.example.com on port 5061."
    )
    assert hints["_sip"] == "This record is in place."
    assert "must stay" in hints["_pexip-verification"]


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_running_at_once_never_check_a_domain_twice(dns_server):
    domains = [own_domain(own_tenant(f"T{n}", f"video.t{n}.test")) for n in range(30)]
    for domain in domains:
        publish(dns_server, domain)
    dns_server.resolver.delay = 0.005  # slow answers, so the two sweeps overlap

    results = run_at_once(2, lambda: dns_checks.dns_sweep(now=NOW, concurrency=3))

    assert sum(result.checked for result in results) == 30
    assert all(result.checked for result in results)
    assert {dns_server.query_count(f"_sip._tcp.{d.domain}") for d in domains} == {1}
    assert CallingDomain.objects.filter(verified_at=NOW).count() == 30


def run_at_once(count, function):
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        barrier.wait()
        try:
            results[index] = function()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_dns_sweeper_runs_every_minute_from_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["dns-sweeper"]

    assert entry == {"task": "onboarding.tasks.sweep_dns", "schedule": 60.0}
