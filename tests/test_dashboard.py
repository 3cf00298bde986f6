"""The staff dashboard, read through the admin over HTTP against PostgreSQL.

Time-based figures come from timestamps set on the rows (or `now=` passed to the lifecycle),
never from waiting.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from onboarding.models import (
    CallingDomain,
    DnsCheck,
    DnsVerdict,
    EmailKind,
    OutboundEmail,
    OutboxStatus,
    Tenant,
    TenantStatus,
)
from onboarding.services import lifecycle, reminders, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.heartbeats import heartbeat_record
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.conftest import otp_verified_login
from tests.html_tables import page_tables
from tests.upload_support import invited_tenant

pytestmark = pytest.mark.django_db

URL = reverse("admin:onboarding_dashboard")
SYSTEM = Actor.system("test")


def own_domain_tenant(name, domain, *, waiting_days=0):
    tenant = tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name.lower()}.test",
        calling_domains=[CallingDomainSpec(option="own", domain=domain)],
        actor=SYSTEM,
    ).tenant
    Tenant.objects.filter(pk=tenant.pk).update(
        status_changed_at=timezone.now() - timedelta(days=waiting_days)
    )
    return tenant


def invited_since(name, *, days):
    tenant = invited_tenant(name)
    since = timezone.now() - timedelta(days=days)
    Tenant.objects.filter(pk=tenant.pk).update(invited_at=since, status_changed_at=since)
    OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.INITIAL).update(created_at=since)
    tenant.refresh_from_db()
    return tenant


def record_check(calling_domain, name, rdtype, verdict, found=()):
    DnsCheck.objects.create(
        calling_domain=calling_domain,
        record_name=name,
        record_type=rdtype,
        expected_value="expected",
        verdict=verdict,
        found=list(found),
        checked_at=timezone.now(),
    )


def tables(response):
    assert response.status_code == 200
    return page_tables(response.content.decode())


def row_values(table):
    """{first cell: second cell} for a two-column table (the header row left out)."""
    return {row[0]: row[1] for row in table.rows[1:]}


# Who may see it -----------------------------------------------------------------------------


def test_the_admin_index_links_to_the_dashboard(staff_client):
    response = staff_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert f'href="{URL}"' in response.content.decode()


def test_a_superuser_sees_the_dashboard(staff_client):
    response = staff_client.get(URL)

    assert response.status_code == 200
    assert "Tenants per state" in response.content.decode()


def test_a_staff_user_without_view_permission_on_tenants_gets_403(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    otp_verified_login(client, clerk)

    assert client.get(URL).status_code == 403
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert f'href="{URL}"' not in index.content.decode()


def test_a_staff_user_allowed_to_view_tenants_sees_it(client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_tenant"))
    otp_verified_login(client, viewer)

    assert client.get(URL).status_code == 200
    assert f'href="{URL}"' in client.get(reverse("admin:index")).content.decode()


def test_someone_not_logged_in_is_sent_to_the_login_page(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# Tenants per state ----------------------------------------------------------------------------


def test_it_counts_tenants_per_state(staff_client):
    tenant_creation.tenant_create(
        name="Draft",
        main_contact_email="it@draft.test",
        calling_domains=[CallingDomainSpec(option="onpexip", domain="draft")],
        actor=SYSTEM,
    )
    invited_tenant("Acme")
    invited_tenant("Globex")
    own_domain_tenant("Waiting", "video.waiting.test")
    verified = own_domain_tenant("Verified", "video.verified.test")
    CallingDomain.objects.filter(tenant=verified).update(verified_at=timezone.now())
    Tenant.objects.filter(pk=invited_tenant("Initech").pk).update(status=TenantStatus.ACTIVE)

    states = tables(staff_client.get(URL))["states"]

    assert row_values(states) == {
        "Draft": "1",
        "DNS pending": "2",
        "Invited": "2",
        "Active": "1",
        "Suspended": "0",
        "Offboarded": "0",
        "of which DNS verified, awaiting enable": "1",
        "stuck more than 7 days (DNS pending or invited)": "0",
    }
    assert "6 in all" in states.caption


# Stuck tenants --------------------------------------------------------------------------------


def test_stuck_tenants_are_listed_oldest_first_with_what_holds_them_up(staff_client):
    # reminders first: the reminder run would remind every tenant invited long enough ago
    reminded = invited_since("Reminded", days=10)
    initial_sent_at = reminded.invited_at + timedelta(minutes=1)
    OutboundEmail.objects.filter(tenant=reminded, kind=EmailKind.INITIAL).update(
        status=OutboxStatus.SENT, sent_at=initial_sent_at
    )
    reminders.reminders_send(now=reminded.invited_at + timedelta(days=3, hours=1))
    reminders.reminders_send(now=reminded.invited_at + timedelta(days=7, hours=1))
    first, second = OutboundEmail.objects.filter(tenant=reminded, kind=EmailKind.REMINDER).order_by(
        "created_at"
    )
    OutboundEmail.objects.filter(pk=first.pk).update(
        status=OutboxStatus.SENT, sent_at=first.created_at
    )
    OutboundEmail.objects.filter(pk=second.pk).update(
        status=OutboxStatus.FAILED, attempts=8, last_error="timed out"
    )
    unsent = invited_since("Unsent", days=15)
    OutboundEmail.objects.filter(tenant=unsent, kind=EmailKind.INITIAL).update(
        status=OutboxStatus.FAILED, attempts=8, last_error="550 no such mailbox"
    )
    dns = own_domain_tenant("Dnsco", "video.dnsco.test", waiting_days=20)
    domain = dns.calling_domains.get()
    record_check(domain, "_sip._tcp.video.dnsco.test.", "SRV", DnsVerdict.MISSING)
    record_check(domain, "_sips._tcp.video.dnsco.test.", "SRV", DnsVerdict.OK)
    record_check(domain, "_h323cs._tcp.video.dnsco.test.", "SRV", DnsVerdict.UNKNOWN)
    record_check(
        domain,
        "_pexip-verification.video.dnsco.test.",
        "TXT",
        DnsVerdict.MISMATCH,
        found=['"pexip-verification=wrong"'],
    )
    verified = own_domain_tenant("Verified", "video.verified.test", waiting_days=12)
    CallingDomain.objects.filter(tenant=verified).update(verified_at=timezone.now())
    invited_since("Recent", days=3)
    own_domain_tenant("Fresh", "video.fresh.test", waiting_days=2)

    stuck = tables(staff_client.get(URL))["stuck"]

    assert [(row[0], row[1], row[3]) for row in stuck.rows[1:]] == [
        ("Dnsco", "DNS pending", "20"),
        ("Unsent", "Invited", "15"),
        ("Verified", "DNS pending", "12"),
        ("Reminded", "Invited", "10"),
    ]
    reasons = {row[0]: row[4].splitlines() for row in stuck.rows[1:]}
    assert reasons["Dnsco"] == [
        "video.dnsco.test: SRV _h323cs._tcp.video.dnsco.test. could not be checked (no answer); "
        "retrying.",
        "video.dnsco.test: TXT _pexip-verification.video.dnsco.test. mismatch (found: "
        '"pexip-verification=wrong").',
        "video.dnsco.test: SRV _sip._tcp.video.dnsco.test. missing.",
    ]
    assert reasons["Unsent"] == [
        "No token uploaded yet.",
        "Initial (enable) email failed after 8 attempts: 550 no such mailbox",
        "No reminder sent yet.",
    ]
    assert reasons["Verified"] == ["DNS verified: waiting for staff to enable the tenant."]
    assert reasons["Reminded"] == [
        "No token uploaded yet.",
        f"Initial (enable) email sent {initial_sent_at:%Y-%m-%d %H:%M} UTC.",
        f"Reminder email sent {first.created_at:%Y-%m-%d %H:%M} UTC.",
        "Reminder email failed after 8 attempts: timed out",
    ]
    assert "(4)" in stuck.caption


def test_stuck_reasons_link_to_the_emails_in_the_outbox_admin(staff_client):
    tenant = invited_since("Unsent", days=9)
    initial = OutboundEmail.objects.get(tenant=tenant, kind=EmailKind.INITIAL)

    response = staff_client.get(URL)

    link = reverse("admin:onboarding_outboundemail_change", args=[initial.pk])
    assert f'<a href="{link}">Initial (enable) email pending' in response.content.decode()


def test_the_stuck_after_days_setting_decides_who_is_stuck(staff_client, settings):
    invited_since("Recent", days=3)
    settings.STUCK_AFTER = timedelta(days=2)

    page = tables(staff_client.get(URL))

    assert [row[0] for row in page["stuck"].rows[1:]] == ["Recent"]
    assert row_values(page["states"])["stuck more than 2 days (DNS pending or invited)"] == "1"


def test_a_resumed_tenant_counts_its_invitation_from_before_the_suspension(staff_client):
    tenant = invited_since("Paused", days=10)
    lifecycle.tenant_suspend(tenant=tenant, actor=SYSTEM, now=timezone.now() - timedelta(days=4))
    lifecycle.tenant_resume(tenant=tenant, actor=SYSTEM)

    stuck = tables(staff_client.get(URL))["stuck"]

    # ten days since the link, four of them suspended: six days of waiting, not stuck yet
    assert stuck.rows[1:] == [["Nobody is stuck."]]
    tenant.refresh_from_db()
    assert (timezone.now() - tenant.invited_at).days == 6


# Failed emails and drift ----------------------------------------------------------------------


def test_failed_emails_are_listed_newest_first_with_links_to_them(staff_client):
    older = invited_tenant("Acme")
    newer = invited_tenant("Globex")
    for tenant, error, age in ((older, "550 no such mailbox", 2), (newer, "timed out", 1)):
        OutboundEmail.objects.filter(tenant=tenant).update(
            status=OutboxStatus.FAILED,
            attempts=8,
            last_error=error,
            created_at=timezone.now() - timedelta(days=age),
        )
    invited_tenant("Initech")  # its email is pending, not failed

    response = staff_client.get(URL)

    failed = tables(response)["failed-emails"]
    assert [(row[2], row[4], row[5]) for row in failed.rows[1:]] == [
        ("Globex", "8", "timed out"),
        ("Acme", "8", "550 no such mailbox"),
    ]
    assert "Failed emails (2)" in failed.caption
    for email in OutboundEmail.objects.filter(status=OutboxStatus.FAILED):
        link = reverse("admin:onboarding_outboundemail_change", args=[email.pk])
        assert f'href="{link}"' in response.content.decode()


def test_dns_drift_flags_are_listed(staff_client):
    tenant = invited_tenant("Acme")
    flagged_at = timezone.now() - timedelta(hours=5)
    CallingDomain.objects.filter(tenant=tenant).update(drift_flagged_at=flagged_at)
    invited_tenant("Globex")

    drift = tables(staff_client.get(URL))["drift"]

    assert drift.rows[1:] == [["acme.onpexip.com", "Acme", f"{flagged_at:%Y-%m-%d %H:%M}"]]
    assert "(1)" in drift.caption


# Liveness -------------------------------------------------------------------------------------


def test_each_jobs_last_beat_is_shown_and_judged_against_its_interval(staff_client):
    now = timezone.now()
    heartbeat_record("scheduler", now=now - timedelta(hours=2))
    heartbeat_record("outbox_sweeper", now=now - timedelta(seconds=30))
    heartbeat_record("dns_sweeper", now=now - timedelta(minutes=10))
    heartbeat_record("reminders", now=now - timedelta(minutes=16))

    liveness = tables(staff_client.get(URL))["liveness"]

    states = {row[0]: (row[3], row[4]) for row in liveness.rows[1:]}
    assert states == {
        "scheduler": ("beats when it starts", "-"),
        "outbox_sweeper": ("1 min", "ok"),
        "dns_sweeper": ("1 min", "stale"),  # every minute, 3 minutes' allowance
        "reminders": ("15 min", "ok"),
        "token_destroyer": ("1 h", "stale"),  # never beat
        "contact_eraser": ("1 h", "stale"),  # never beat
        "provisioning_retries": ("1 min", "stale"),  # never beat
        "gateway_sweeper": ("15 min", "stale"),  # never beat
    }
    assert "alive" in liveness.caption


def test_a_job_not_yet_run_since_the_scheduler_started_is_waiting_not_stale(staff_client):
    now = timezone.now()
    heartbeat_record("scheduler", now=now - timedelta(minutes=5))
    heartbeat_record("outbox_sweeper", now=now - timedelta(seconds=20))
    heartbeat_record("dns_sweeper", now=now - timedelta(seconds=20))
    heartbeat_record("provisioning_retries", now=now - timedelta(seconds=20))
    heartbeat_record("reminders", now=now - timedelta(minutes=4))
    # beat last before the portal was stopped; hourly, so its next run is still to come
    heartbeat_record("contact_eraser", now=now - timedelta(hours=20))

    liveness = tables(staff_client.get(URL))["liveness"]

    states = {row[0]: row[4] for row in liveness.rows[1:]}
    assert states["token_destroyer"] == "waiting for its first run"
    assert states["contact_eraser"] == "waiting for its first run"
    assert states["gateway_sweeper"] == "waiting for its first run"  # every quarter hour
    assert "stale" not in states.values()


def test_a_job_that_never_ran_long_after_the_scheduler_started_is_stale(staff_client):
    now = timezone.now()
    heartbeat_record("scheduler", now=now - timedelta(minutes=5))
    heartbeat_record("outbox_sweeper", now=now - timedelta(seconds=20))

    liveness = tables(staff_client.get(URL))["liveness"]

    states = {row[0]: row[4] for row in liveness.rows[1:]}
    # every minute plus 3 minutes' allowance has passed since the start: it should have run
    assert states["dns_sweeper"] == "stale"
    assert states["token_destroyer"] == "waiting for its first run"


def test_the_scheduler_counts_as_down_when_no_job_beat_recently(staff_client):
    heartbeat_record("outbox_sweeper", now=timezone.now() - timedelta(minutes=30))

    liveness = tables(staff_client.get(URL))["liveness"]

    assert "no recent heartbeat" in liveness.caption
