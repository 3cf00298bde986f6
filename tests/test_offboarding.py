"""Offboarding: the service ends from any state; contact addresses go after the retention
period, everywhere they were stored; reinstating is a fresh onboarding."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from onboarding import tasks
from onboarding.domain import calling_domains
from onboarding.models import (
    AuditEvent,
    CallingDomain,
    EmailKind,
    OutboundEmail,
    SecurityToken,
    Tenant,
    UploadInvitation,
)
from onboarding.services import changes, lifecycle, offboarding, prefixes
from onboarding.services.audit import TransitionRefused
from onboarding.services.lifecycle import Operation
from tests.live_support import TEST, active_tenant, rendered, tenant_in

pytestmark = pytest.mark.django_db

ALL_STATES = ["draft", "dns_pending", "invited", "active", "suspended", "offboarded"]


def test_offboarding_is_allowed_from_every_state_but_offboarded():
    assert {"draft", "dns_pending", "invited", "active", "suspended"} == lifecycle.allowed_from(
        Operation.OFFBOARD
    )


@pytest.mark.parametrize("status", ALL_STATES)
def test_offboarding_from_each_state(status):
    tenant = tenant_in(status)
    if status in lifecycle.allowed_from(Operation.OFFBOARD):
        offboarding.tenant_offboard(tenant=tenant, actor=TEST)
        tenant.refresh_from_db()
        assert tenant.status == "offboarded" and tenant.offboarded_at is not None
    else:
        with pytest.raises(TransitionRefused, match="cannot be offboarded"):
            offboarding.tenant_offboard(tenant=tenant, actor=TEST)


def test_a_selection_splits_into_tenants_to_offboard_and_those_already_offboarded():
    gone, draft, active = (
        tenant_in("offboarded", "Gone"),
        tenant_in("draft", "Draft"),
        tenant_in("active", "Live"),
    )

    to_offboard, skipped = offboarding.offboard_split([gone, draft, active])

    assert (to_offboard, skipped) == ([draft, active], [gone])


def test_offboarding_ends_everything_and_sends_the_service_ended_email():
    tenant = active_tenant()
    invitation = UploadInvitation.objects.filter(tenant=tenant, used_at__isnull=True).first()
    pending = OutboundEmail.objects.filter(tenant=tenant, status="pending").count()
    assert pending  # initial and confirmation still wait for the worker

    offboarding.tenant_offboard(tenant=tenant, actor=TEST)

    assert not SecurityToken.objects.filter(tenant=tenant).exclude(ciphertext="").exists()
    assert set(SecurityToken.objects.filter(tenant=tenant).values_list("state", flat=True)) == {
        "destroyed"
    }
    if invitation is not None:
        invitation.refresh_from_db()
        assert invitation.revoked_at is not None
    assert OutboundEmail.objects.filter(tenant=tenant, status="cancelled").count() == pending
    assert (
        not OutboundEmail.objects.filter(tenant=tenant, status="cancelled")
        .exclude(message_ciphertext="")
        .exists()
    )
    assert not CallingDomain.objects.in_use().filter(tenant=tenant).exists()
    assert not CallingDomain.objects.filter(tenant=tenant, next_check_at__isnull=False).exists()
    ended = OutboundEmail.objects.get(tenant=tenant, kind=EmailKind.SERVICE_ENDED)
    assert ended.status == "pending" and ended.recipients == ["noc@acme.test"]
    text, html = rendered(ended)
    assert "The video interoperability service for Acme ended" in text
    assert "deleted the security token" in html
    assert "delete the" in text and "Pexip" in text
    event = AuditEvent.objects.get(tenant=tenant, action="offboarded")
    assert event.from_status == "active" and event.detail["emails_cancelled"] == pending


def test_an_offboarded_shared_prefix_is_quarantined():
    tenant = active_tenant("Globex", option="shared", domain="")
    prefix = tenant.calling_domains.get().prefix
    offboarding.tenant_offboard(tenant=tenant, actor=TEST)
    retired = CallingDomain.objects.get(tenant=tenant)
    assert retired.prefix == prefix and retired.retired_at is not None
    assert prefixes.shared_prefixes_free() == calling_domains.SHARED_PREFIX_POOL_SIZE - 1


def test_an_offboarded_tenant_cannot_be_changed_any_more():
    tenant = tenant_in("offboarded")
    with pytest.raises(TransitionRefused):
        changes.tenant_settings_change(
            tenant=tenant, actor=TEST, fields={"token_upload_contacts": ["x@acme.test"]}
        )


# Erasing contact addresses -----------------------------------------------------------------------


def offboarded_with_history():
    tenant = active_tenant()
    changes.tenant_settings_change(
        tenant=tenant, actor=TEST, fields={"token_upload_contacts": ["deputy@acme.test"]}
    )
    offboarding.tenant_offboard(tenant=tenant, actor=TEST)
    OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.SERVICE_ENDED).update(
        last_error="SMTP 550: <noc@acme.test> mailbox unavailable"
    )
    tenant.refresh_from_db()
    return tenant


def test_contacts_stay_inside_the_retention_period():
    tenant = offboarded_with_history()
    early = tenant.offboarded_at + settings.CONTACT_RETENTION - timedelta(seconds=1)
    assert offboarding.contacts_erase_due(now=early) == 0
    tenant.refresh_from_db()
    assert tenant.main_contact_email == "it@acme.test"


def test_contacts_are_erased_everywhere_after_the_retention_period():
    tenant = offboarded_with_history()
    due = tenant.offboarded_at + settings.CONTACT_RETENTION
    assert offboarding.contacts_erase_due(now=due) == 1

    tenant.refresh_from_db()
    assert tenant.name == "Acme"  # the name stays for the record
    assert tenant.main_contact_email == offboarding.ERASED
    assert tenant.token_upload_contacts == [] and tenant.service_notification_contacts == []
    assert tenant.contacts_erased_at == due
    addresses = ("it@acme.test", "admin@acme.test", "noc@acme.test", "deputy@acme.test")
    assert OutboundEmail.objects.filter(tenant=tenant).exists()
    assert AuditEvent.objects.filter(tenant=tenant).exists()
    for row in OutboundEmail.objects.filter(tenant=tenant):
        assert not set(row.recipients) & set(addresses)
        assert not any(a in row.last_error for a in addresses)
    for event in AuditEvent.objects.filter(tenant=tenant):
        assert not any(a in str(event.detail) for a in addresses), event.action
    assert AuditEvent.objects.filter(tenant=tenant, action="offboarded").exists()  # trail stays
    history = list(Tenant.history.filter(id=tenant.pk))
    assert history, "the tenant's change history must exist for this check to mean anything"
    for record in history:
        kept = (
            record.main_contact_email,
            *record.token_upload_contacts,
            *record.service_notification_contacts,
            record.history_change_reason or "",
        )
        assert not any(a in value for a in addresses for value in kept), record.history_id
    assert offboarding.contacts_erase_due(now=due + timedelta(days=1)) == 0  # done once


def test_the_periodic_task_erases_due_contacts(settings):
    tenant = offboarded_with_history()
    Tenant.objects.filter(pk=tenant.pk).update(
        offboarded_at=timezone.now() - settings.CONTACT_RETENTION - timedelta(days=1)
    )
    assert tasks.erase_offboarded_contacts() == 1
    assert "contact-eraser" in settings.CELERY_BEAT_SCHEDULE


def test_erasing_keeps_the_staff_addresses_of_staff_emails(settings):
    settings.STAFF_NOTIFICATION_EMAILS = ["ops@provider.test"]
    tenant = offboarded_with_history()
    OutboundEmail.objects.create(
        tenant=tenant,
        kind=EmailKind.DNS_DRIFT,
        idempotency_key="dns_drift:test",
        recipients=["ops@provider.test"],
        subject="DNS drift",
        status="sent",
    )
    offboarding.tenant_contacts_erase(tenant_id=tenant.pk)
    staff_row = OutboundEmail.objects.get(idempotency_key="dns_drift:test")
    assert staff_row.recipients == ["ops@provider.test"]


# Reinstating -----------------------------------------------------------------------------------


def test_reinstating_starts_a_fresh_onboarding_as_a_new_tenant():
    tenant = active_tenant("Globex", option="shared", domain="")
    old_prefix = tenant.calling_domains.get().prefix
    offboarding.tenant_offboard(tenant=tenant, actor=TEST)

    fresh = offboarding.tenant_reinstate(tenant=tenant, actor=TEST).tenant

    assert fresh.pk != tenant.pk and fresh.name == "Globex" and fresh.status == "draft"
    assert fresh.calling_domains.get().prefix != old_prefix  # the old one is in quarantine
    assert AuditEvent.objects.get(tenant=tenant, action="reinstated").detail == {
        "new_tenant": fresh.pk
    }


@pytest.mark.parametrize("status", ["draft", "invited", "active", "suspended"])
def test_only_an_offboarded_tenant_can_be_reinstated(status):
    tenant = tenant_in(status)
    with pytest.raises(TransitionRefused, match="only an offboarded tenant"):
        offboarding.tenant_reinstate(tenant=tenant, actor=TEST)
