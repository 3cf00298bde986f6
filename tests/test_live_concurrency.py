"""Races between live changes and the customer, the DNS checker and the mail sender.

Each side runs in its own thread with its own PostgreSQL connection against committed data,
released together by a barrier; every order the database allows must leave a consistent
tenant. Nothing is mocked.
"""

from __future__ import annotations

import pytest
from django.test import Client

from onboarding.dns import sweep
from onboarding.mail import outbox
from onboarding.models import (
    AuditEvent,
    CallingDomain,
    EmailKind,
    Gateway,
    OutboundEmail,
    SecurityToken,
    UploadInvitation,
)
from onboarding.services import changes, invitations, offboarding, tenant_creation
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.concurrency import run_together
from tests.live_support import TEST, rendered
from tests.upload_support import gateway_confirms, invited_tenant, link_path

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 6


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_settings_change_racing_an_upload_keeps_both(round_):
    tenant = invited_tenant(f"Acme{round_}")
    link = link_path(tenant)
    europe = Gateway.objects.create(
        name=f"Europe {round_}", ip_address="192.0.2.77", hostname="eu.gateway.example.com"
    )

    def upload() -> int:
        return Client().post(link, {"token": "raced-token-1234", "trusted": "on"}).status_code

    def change() -> changes.ChangeResult:
        return changes.tenant_settings_change(tenant=tenant, actor=TEST, fields={"gateway": europe})

    status_code, result = run_together(upload, change)

    assert status_code == 302  # stored, redirected to the received page
    assert isinstance(result, changes.ChangeResult), result
    tenant.refresh_from_db()
    assert tenant.status == "active" and tenant.gateway == europe
    assert SecurityToken.objects.filter(tenant=tenant, state="current").count() == 1
    [changed] = OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.SETTINGS_CHANGED)
    text, _html = rendered(changed)
    assert "Gateway IP address: 192.0.2.10 -> 192.0.2.77" in text
    # the confirmation waits for the gateway, then shows what is true by then
    gateway_confirms(tenant)
    confirmation = OutboundEmail.objects.get(tenant=tenant, kind=EmailKind.CONFIRMATION)
    confirmation_text, _html = rendered(confirmation)
    assert "192.0.2.77" in confirmation_text and "192.0.2.10" not in confirmation_text
    actions = set(AuditEvent.objects.filter(tenant=tenant).values_list("action", flat=True))
    assert {"token_stored", "settings_changed"} <= actions


def assert_nothing_left_running(tenant) -> None:
    tenant.refresh_from_db()
    assert tenant.status == "offboarded"
    assert not CallingDomain.objects.filter(tenant=tenant, retired_at__isnull=True).exists()
    assert not CallingDomain.objects.filter(tenant=tenant, next_check_at__isnull=False).exists()
    waiting = OutboundEmail.objects.filter(tenant=tenant, status__in=["pending", "sending"])
    assert list(waiting.values_list("kind", flat=True)) == [EmailKind.SERVICE_ENDED]
    assert not UploadInvitation.objects.filter(
        tenant=tenant, used_at__isnull=True, revoked_at__isnull=True
    ).exists()
    assert not SecurityToken.objects.filter(tenant=tenant).exclude(ciphertext="").exists()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_an_offboarding_racing_a_dns_check_leaves_nothing_running(round_, dns_server):
    tenant = tenant_creation.tenant_create(
        name=f"Acme{round_}",
        main_contact_email="it@acme.test",
        calling_domains=[CallingDomainSpec(option="own", domain=f"video{round_}.acme.test")],
        actor=TEST,
        enable_when_dns_verified=True,
    ).tenant
    domain = CallingDomain.objects.select_related("tenant__gateway").get(tenant=tenant)
    for record in domain.expected_records():
        dns_server.add(record.zone_line)

    check, offboard = run_together(
        lambda: sweep.calling_domains_check_now([domain]),
        lambda: offboarding.tenant_offboard(tenant=tenant, actor=TEST),
    )

    assert not isinstance(check, Exception), check
    assert not isinstance(offboard, Exception), offboard
    assert_nothing_left_running(tenant)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_an_offboarding_racing_an_email_send_sends_it_once_or_cancels_it(round_, smtp_sink):
    tenant = invited_tenant(f"Acme{round_}")
    initial = OutboundEmail.objects.get(tenant=tenant, kind=EmailKind.INITIAL)

    sent, offboard = run_together(
        lambda: outbox.email_send([initial.pk]),
        lambda: offboarding.tenant_offboard(tenant=tenant, actor=TEST),
    )

    assert not isinstance(offboard, Exception), offboard
    initial.refresh_from_db()
    delivered = [m for m in smtp_sink.messages if m["Message-ID"] == initial.message_id]
    if initial.status == "sent":
        assert sent == 1 and len(delivered) == 1
    else:
        assert initial.status == "cancelled" and sent == 0 and delivered == []
    assert_nothing_left_running(tenant)


def test_an_email_already_being_sent_finishes_but_pending_ones_are_cancelled(smtp_sink):
    tenant = invited_tenant()
    initial = OutboundEmail.objects.get(tenant=tenant, kind=EmailKind.INITIAL)
    issued = invitations.invitation_issue(tenant=tenant)
    assert issued.invitation.revoked_at is None
    claimed = outbox._claim([initial.pk], "claim-before-offboarding", initial.next_attempt_at)
    assert [row.pk for row in claimed] == [initial.pk]

    offboarding.tenant_offboard(tenant=tenant, actor=TEST)

    initial.refresh_from_db()
    assert initial.status == "sending"  # claimed before: its SMTP conversation may be under way
    issued.invitation.refresh_from_db()
    assert issued.invitation.revoked_at is not None
