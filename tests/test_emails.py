"""Every email, as it reaches a real SMTP server: recipients, subject, text and HTML parts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from onboarding.mail import outbox
from onboarding.models import EmailKind, OutboundEmail, Tenant, UploadInvitation
from onboarding.services import lifecycle, reminders, tenant_creation, tokens
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.upload_support import gateway_confirms

pytestmark = pytest.mark.django_db

TOKEN = "email-test-token-9f1b"


def make_tenant(option="onpexip", domain="acme", length="", scope_units=()):
    return tenant_creation.tenant_create(
        name="Acme",
        main_contact_email="it@acme.test",
        token_upload_contacts=["admin@acme.test", "deputy@acme.test"],
        service_notification_contacts=["noc@acme.test"],
        calling_domains=[CallingDomainSpec(option=option, domain=domain, meeting_id_length=length)],
        access_scope="selected" if scope_units else "whole",
        access_scope_units=list(scope_units),
        actor=Actor.system("test"),
    ).tenant


def deliver(kind, smtp_sink):
    """Send every queued email of this kind to the sink; return the one message."""
    rows = OutboundEmail.objects.filter(kind=kind)
    outbox.email_send([row.pk for row in rows])
    [message] = [m for m in smtp_sink.messages if m["Message-ID"] == rows.get().message_id]
    return (
        message,
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


def assert_in_both(text, html, *phrases):
    for phrase in phrases:
        assert phrase in text, phrase
        assert phrase in html, phrase


def enabled(tenant):
    lifecycle.tenant_enable(tenant=tenant, actor=Actor.system("test"))
    return tenant


def test_the_initial_email_has_the_steps_values_link_and_expiry(smtp_sink):
    enabled(make_tenant())

    message, text, html = deliver(EmailKind.INITIAL, smtp_sink)

    assert message["To"] == "admin@acme.test, deputy@acme.test"
    assert "Action needed" in message["Subject"] and "Acme" in message["Subject"]
    link = UploadInvitation.objects.get()
    assert_in_both(
        text,
        html,
        "Interoperability tokens",
        "Gateways for Interoperability",
        "Pexip",
        "PexipInterop",
        "Trusted",
        "acme.onpexip.com",
        "Use long meeting IDs",
        "192.0.2.10",
        "gateway.example.com",
        "1234567890123@acme.onpexip.com",
        "Allow interoperability with other systems",
        "http://testserver/upload/",
        f"{link.expires_at:%-d %B %Y}",
        "support@provider.test",
    )


def test_the_initial_email_shows_the_prefix_of_a_shared_domain(smtp_sink):
    tenant = enabled(make_tenant(option="shared", domain="", length="short"))
    prefix = tenant.calling_domains.get().prefix

    _message, text, html = deliver(EmailKind.INITIAL, smtp_sink)

    assert_in_both(
        text,
        html,
        "gmeet.pexip.me",
        "Use short meeting IDs",
        prefix,
        f"{prefix}1234@gmeet.pexip.me",
    )


def test_the_initial_email_says_to_limit_access_before_allowing_interop(smtp_sink):
    enabled(make_tenant(scope_units=["/Sales", "video@acme.test"]))

    _message, text, html = deliver(EmailKind.INITIAL, smtp_sink)

    assert_in_both(text, html, "/Sales, video@acme.test", "Set them up first, before you tick")


def test_the_reminder_says_its_link_replaces_the_earlier_one(smtp_sink):
    tenant = enabled(make_tenant())
    Tenant.objects.filter(pk=tenant.pk).update(invited_at=timezone.now() - timedelta(days=3))
    reminders.reminders_send()

    message, text, html = deliver(EmailKind.REMINDER, smtp_sink)

    assert message["To"] == "admin@acme.test, deputy@acme.test"
    assert message["Subject"].startswith("Reminder:")
    assert_in_both(
        text,
        html,
        "3 days ago",
        "replaces the link in our earlier emails",
        "http://testserver/upload/",
        "support@provider.test",
    )


def test_the_new_link_email_goes_to_the_token_upload_contacts(smtp_sink):
    tenant = enabled(make_tenant())
    tokens.upload_link_reissue(tenant=tenant, actor=Actor.customer("127.0.0.1"))

    message, text, html = deliver(EmailKind.NEW_LINK, smtp_sink)

    assert message["To"] == "admin@acme.test, deputy@acme.test"
    assert_in_both(
        text,
        html,
        "replaces every earlier link",
        "http://testserver/upload/",
        "support@provider.test",
    )


def upload(tenant, token=TOKEN):
    invitation = UploadInvitation.objects.filter(tenant=tenant).first()
    if invitation.used_at:
        invitation = tokens.upload_link_reissue(tenant=tenant, actor=Actor.system()).invitation
    tokens.token_store(invitation=invitation, token=token, actor=Actor.customer("127.0.0.1"))


def test_the_confirmation_goes_to_the_service_notification_contacts(smtp_sink):
    tenant = enabled(make_tenant())
    upload(tenant)
    gateway_confirms(tenant)

    message, text, html = deliver(EmailKind.CONFIRMATION, smtp_sink)

    assert message["To"] == "noc@acme.test"
    assert "can now join" in message["Subject"]
    assert_in_both(
        text, html, "The service is ready", "Trusted", "acme.onpexip.com", "support@provider.test"
    )
    assert TOKEN not in text and TOKEN not in html


def test_token_replaced_tells_the_service_contacts_and_how_to_undo(smtp_sink):
    tenant = enabled(make_tenant())
    upload(tenant)
    gateway_confirms(tenant)
    upload(tenant, token="second-token")
    gateway_confirms(tenant)

    message, text, html = deliver(EmailKind.TOKEN_REPLACED, smtp_sink)

    assert message["To"] == "noc@acme.test"
    assert_in_both(
        text, html, "replaced the previous one", "can be undone", "support@provider.test"
    )
    assert "second-token" not in text and "second-token" not in html


def test_the_email_failed_notice_goes_to_staff_with_the_error(smtp_sink):
    enabled(make_tenant())
    smtp_sink.handler.refuse_with = "550 5.1.1 No such mailbox"
    outbox.email_send([OutboundEmail.objects.get(kind=EmailKind.INITIAL).pk])
    smtp_sink.handler.refuse_with = ""

    message, text, html = deliver(EmailKind.EMAIL_FAILED, smtp_sink)

    assert message["To"] == "staff@provider.test"
    assert_in_both(
        text,
        html,
        "Initial (enable)",
        "admin@acme.test",
        "550",
        "http://testserver/admin/onboarding/outboundemail/",
        "support@provider.test",
    )


def test_a_tenant_name_cannot_smuggle_a_header_into_a_subject(smtp_sink):
    tenant = make_tenant()
    tenant.name = "Acme\r\nBcc: victim@evil.test"
    tenant.save()
    enabled(tenant)

    message, _text, _html = deliver(EmailKind.INITIAL, smtp_sink)

    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]


def test_no_email_ever_holds_the_token(smtp_sink):
    tenant = enabled(make_tenant())
    upload(tenant)
    gateway_confirms(tenant)
    upload(tenant, token="second-token")
    gateway_confirms(tenant)
    tokens.token_revoke(tenant=tenant, actor=Actor.system(), now=timezone.now())

    outbox.email_send(list(OutboundEmail.objects.values_list("pk", flat=True)))

    assert len(smtp_sink.messages) == OutboundEmail.objects.count() >= 4
    for message in smtp_sink.messages:
        raw = message.as_string()
        assert TOKEN not in raw and "second-token" not in raw
