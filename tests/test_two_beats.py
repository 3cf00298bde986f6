"""Two `celery beat` processes by mistake (README: never run two) lose and duplicate nothing.

Two beats, each with its own schedule file, send every periodic job twice as often; two
`celery worker` processes run them side by side on one Redis, against the test database, the
SMTP sink and the test DNS server. Every claim is a conditional UPDATE or a skipped lock, so
each email reaches the sink once per Message-ID, each due domain is checked once per due time,
and each reminder goes once. Time is moved by setting timestamps, never by waiting.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from onboarding.mail import outbox as mail
from onboarding.models import (
    AuditEvent,
    CallingDomain,
    DnsCheck,
    EmailKind,
    OutboundEmail,
    OutboxStatus,
    Tenant,
    TenantStatus,
    UploadInvitation,
)
from onboarding.services import lifecycle, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.services import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

# Every job every second or two: a few seconds hold many rounds of each, from both beats.
INTERVALS = {
    "SWEEP_INTERVAL_SECONDS": "1",
    "REMINDER_INTERVAL_SECONDS": "1",
    "TOKEN_DESTROY_INTERVAL_SECONDS": "2",
    "CONTACT_ERASE_INTERVAL_SECONDS": "2",
}
# Each DNS answer takes this long, so one beat's sweep is still checking when the other's starts.
DNS_ANSWER_DELAY = 0.2
# Rounds both beats keep sending after the last piece of work is done, for a late duplicate.
QUIET_SECONDS = 5
SYSTEM = Actor.system("test")


def invited_days_ago(name: str, days: int) -> Tenant:
    tenant = tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name}.test",
        token_upload_contacts=[f"admin@{name}.test"],
        calling_domains=[CallingDomainSpec(option="onpexip", domain=name)],
        actor=SYSTEM,
    ).tenant
    lifecycle.tenant_enable(tenant=tenant, actor=SYSTEM, now=timezone.now() - timedelta(days=days))
    return tenant


def invited_with_lost_invitations() -> list[Tenant]:
    """Six tenants invited two days ago whose invitation emails the broker lost: four still
    pending and long stale, two held by a worker that died (its lease ran out)."""
    with pytest.MonkeyPatch.context() as broker:
        broker.setattr(mail, "enqueue_send", lambda ids: False)
        tenants = [invited_days_ago(f"late{i}", days=2) for i in range(6)]
    dead = OutboundEmail.objects.filter(tenant__in=tenants).values_list("pk", flat=True)[:2]
    OutboundEmail.objects.filter(pk__in=list(dead)).update(
        status=OutboxStatus.SENDING,
        claim_token="dead-worker",
        lease_until=timezone.now() - timedelta(minutes=1),
    )
    return tenants


def awaiting_dns(name: str, *, enable_when_verified: bool) -> CallingDomain:
    tenant = tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name}.test",
        token_upload_contacts=[f"admin@{name}.test"],
        calling_domains=[CallingDomainSpec(option="own", domain=f"video.{name}.test")],
        enable_when_dns_verified=enable_when_verified,
        actor=SYSTEM,
    ).tenant
    return CallingDomain.objects.get(tenant=tenant)


def checks_of(dns_server, domain: CallingDomain) -> int:
    """Every check asks for this SRV record once: the DNS server counts the checks."""
    return dns_server.query_count(f"_sips._tcp.{domain.domain}", "SRV")


def due_at(domains: list[CallingDomain], when: datetime) -> None:
    CallingDomain.objects.filter(pk__in=[d.pk for d in domains]).update(next_check_at=when)


def recorded_since(domains: list[CallingDomain], when: datetime) -> bool:
    """Every domain's verdict written by a check that started at `when` or later."""
    written = DnsCheck.objects.filter(calling_domain__in=domains, checked_at__gte=when)
    return written.values("calling_domain").distinct().count() == len(domains)


def all_sent(reminders: int) -> bool:
    return (
        OutboundEmail.objects.filter(kind=EmailKind.REMINDER).count() >= reminders
        and not OutboundEmail.objects.exclude(status=OutboxStatus.SENT).exists()
    )


def log_count(processes, pattern: str) -> int:
    return sum(len(re.findall(pattern, process.output())) for process in processes)


def test_two_beats_lose_and_duplicate_no_email_no_dns_check_no_reminder(
    celery_workers, celery_beats, smtp_sink, dns_server
):
    reminded = invited_with_lost_invitations()
    # Four own domains, their DNS instructions queued as usual: three publish their records
    # (two of those tenants are enabled once verified), one publishes nothing.
    domains = [awaiting_dns(f"own{i}", enable_when_verified=i < 2) for i in range(4)]
    for domain in domains[:3]:
        dns_server.add(*(r.zone_line for r in domain.expected_records()))
    dns_server.resolver.delay = DNS_ANSWER_DELAY
    first = timezone.now()
    due_at(domains[::2], first)
    due_at(domains[1::2], first + timedelta(hours=1))
    environment = {
        **INTERVALS,
        "DNS_NAMESERVERS": "127.0.0.1",
        "DNS_PORT": str(dns_server.port),
        "DNS_TIMEOUT": "1.0",
        "DNS_LIFETIME": "3.0",
    }

    started = time.monotonic()
    workers = [celery_workers(**environment) for _ in range(2)]
    # Both beats start together, so their rounds come at nearly the same moments.
    with ThreadPoolExecutor(2) as pool:
        beats = list(pool.map(lambda _: celery_beats(**environment), range(2)))
    # Due times come while both beats run: the reminders (as if two more days had passed),
    # the other half of the domains in two seconds, then every domain again once checked (as
    # if a backoff or the daily re-check had come round).
    Tenant.objects.filter(pk__in=[t.pk for t in reminded]).update(
        invited_at=timezone.now() - timedelta(days=4)
    )
    due_at(domains[1::2], timezone.now() + timedelta(seconds=2))
    wait_until(lambda: recorded_since(domains, first), timeout=30, what="every domain checked")
    again = timezone.now()
    due_at(domains, again)
    wait_until(lambda: recorded_since(domains, again), timeout=30, what="every domain rechecked")
    wait_until(lambda: all_sent(len(reminded)), timeout=30, what="every reminder sent")
    time.sleep(QUIET_SECONDS)
    for process in [*beats, *workers]:  # the fixtures stop them too, whatever happened
        process.stop()
    ran = time.monotonic() - started

    # Both beats sent every job round after round, and the workers ran them all.
    for beat in beats:
        for job in ("outbox-sweeper", "dns-sweeper", "reminders"):
            assert log_count([beat], rf"Sending due task {job} ") >= 5, beat.output()[-3000:]
    for task in ("sweep_outbox", "sweep_dns", "send_reminders"):
        assert log_count(workers, rf"Task onboarding\.tasks\.{task}\[\S+\] succeeded") >= 10
    assert log_count(workers, r"raised unexpected") == 0
    # Every email recorded reached the sink, each exactly once per Message-ID.
    rows = {row.message_id: row for row in OutboundEmail.objects.all()}
    received = Counter(message["Message-ID"] for message in smtp_sink.messages)
    assert set(received) == set(rows)
    assert received.most_common(1)[0][1] == 1, received.most_common(3)
    assert {row.status for row in rows.values()} == {OutboxStatus.SENT}
    assert Counter(row.kind for row in rows.values()) == {
        EmailKind.INITIAL: 8,  # the six late tenants and the two enabled once verified
        EmailKind.REMINDER: 6,
        EmailKind.DNS_INSTRUCTIONS: 4,
    }
    # Each reminder once: one reminder at the sink and one fresh link per tenant, no more.
    reminders_received = Counter(
        rows[message_id].tenant_id
        for message_id in received
        if rows[message_id].kind == EmailKind.REMINDER
    )
    assert reminders_received == {tenant.pk: 1 for tenant in reminded}
    for tenant in reminded:
        assert UploadInvitation.objects.filter(tenant=tenant).count() == 2
    # Each domain checked once per due time (two each), each publishing domain verified once.
    assert [checks_of(dns_server, d) for d in domains] == [2, 2, 2, 2]
    verified = AuditEvent.objects.filter(action="dns_verified").values_list("detail", flat=True)
    assert Counter(detail["domain"] for detail in verified) == {d.domain: 1 for d in domains[:3]}
    assert Tenant.objects.filter(status=TenantStatus.INVITED).count() == 8
    assert ran < 60, f"the run took {ran:.0f}s"
