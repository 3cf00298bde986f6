"""Reminders to upload the token, driven by setting timestamps (never by waiting)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from onboarding.models import EmailKind, OutboundEmail, Tenant, UploadInvitation
from onboarding.services import invitations, lifecycle, reminders, tenant_creation, tokens
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec

pytestmark = pytest.mark.django_db


def invited_days_ago(days, name="Acme"):
    tenant = tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name.lower()}.test",
        token_upload_contacts=[f"admin@{name.lower()}.test"],
        calling_domains=[CallingDomainSpec(option="onpexip", domain=name.lower())],
        actor=Actor.system("test"),
    ).tenant
    lifecycle.tenant_enable(
        tenant=tenant, actor=Actor.system("test"), now=timezone.now() - timedelta(days=days)
    )
    tenant.refresh_from_db()
    return tenant


def sent_reminders():
    return list(OutboundEmail.objects.filter(kind=EmailKind.REMINDER).order_by("id"))


def test_no_reminder_before_three_days():
    invited_days_ago(2)

    assert reminders.reminders_send() == 0


def test_the_first_reminder_goes_after_three_days_once_even_when_the_job_runs_twice():
    invited_days_ago(3)

    first, second = reminders.reminders_send(), reminders.reminders_send()

    assert (first, second) == (1, 0)
    [reminder] = sent_reminders()
    assert reminder.recipients == ["admin@acme.test"]
    assert reminder.idempotency_key.endswith(":1")


def test_the_second_reminder_goes_after_seven_days_and_no_third_ever():
    tenant = invited_days_ago(3)
    reminders.reminders_send()

    reminders.reminders_send(now=tenant.invited_at + timedelta(days=7))
    reminders.reminders_send(now=tenant.invited_at + timedelta(days=30))

    assert [r.idempotency_key[-1] for r in sent_reminders()] == ["1", "2"]


def test_a_tenant_first_seen_after_seven_days_gets_one_reminder_not_two():
    invited_days_ago(8)

    reminders.reminders_send()
    reminders.reminders_send()

    assert len(sent_reminders()) == 1


def test_each_reminder_carries_a_fresh_link_that_replaces_the_earlier_one():
    tenant = invited_days_ago(3)
    earlier = UploadInvitation.objects.get(tenant=tenant)

    reminders.reminders_send()

    earlier.refresh_from_db()
    assert earlier.revoked_at is not None
    assert UploadInvitation.objects.filter(tenant=tenant, revoked_at__isnull=True).count() == 1


def test_no_reminder_after_an_upload():
    tenant = invited_days_ago(4)
    invitation = UploadInvitation.objects.get(tenant=tenant)
    tokens.token_store(invitation=invitation, token="tok", actor=Actor.customer("127.0.0.1"))

    assert reminders.reminders_send() == 0


def test_no_reminder_to_a_suspended_tenant():
    tenant = invited_days_ago(4)
    lifecycle.tenant_suspend(tenant=tenant, actor=Actor.system())

    assert reminders.reminders_send() == 0


def test_a_resumed_tenant_is_reminded_from_its_original_invitation():
    tenant = invited_days_ago(4)
    lifecycle.tenant_suspend(tenant=tenant, actor=Actor.system())
    lifecycle.tenant_resume(tenant=tenant, actor=Actor.system())

    assert reminders.reminders_send() == 1


def test_a_revoked_token_starts_the_reminders_afresh():
    tenant = invited_days_ago(10)
    reminders.reminders_send()
    invitation = invitations.invitation_issue(tenant=tenant).invitation
    tokens.token_store(invitation=invitation, token="tok", actor=Actor.customer("127.0.0.1"))
    tokens.token_revoke(tenant=tenant, actor=Actor.system(), now=timezone.now())
    Tenant.objects.filter(pk=tenant.pk).update(invited_at=timezone.now() - timedelta(days=3))

    assert reminders.reminders_send() == 1
    assert len(sent_reminders()) == 2


def test_the_beat_task_sends_the_due_reminders_and_beats():
    from onboarding.models import Heartbeat
    from onboarding.tasks import send_reminders

    invited_days_ago(3)

    assert send_reminders.apply().get() == 1
    assert Heartbeat.objects.filter(name="reminders").exists()
