"""One small named function per tenant email: who gets it, under which idempotency key, with
what context. Each records the email through the outbox in the caller's transaction.

Links are passed in, never built here: issuing an upload link revokes the earlier ones, which is
the services' decision (services/link_emails.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.conf import settings

from onboarding.mail import instructions
from onboarding.mail.outbox import email_queue
from onboarding.models import (
    CallingDomain,
    EmailKind,
    OutboundEmail,
    SecurityToken,
    Tenant,
)


class Audience(StrEnum):
    TOKEN_UPLOAD_CONTACTS = "token-upload contacts"  # noqa: S105 (an audience, not a secret)
    SERVICE_NOTIFICATION_CONTACTS = "service-notification contacts"
    STAFF = "staff"


# Who receives each email (domain.md, "Emails"): composers and previews both read this.
AUDIENCE = {
    EmailKind.DNS_INSTRUCTIONS: Audience.TOKEN_UPLOAD_CONTACTS,
    EmailKind.INITIAL: Audience.TOKEN_UPLOAD_CONTACTS,
    EmailKind.REMINDER: Audience.TOKEN_UPLOAD_CONTACTS,
    EmailKind.NEW_LINK: Audience.TOKEN_UPLOAD_CONTACTS,
    EmailKind.CONFIRMATION: Audience.SERVICE_NOTIFICATION_CONTACTS,
    EmailKind.TOKEN_REPLACED: Audience.SERVICE_NOTIFICATION_CONTACTS,
    EmailKind.SETTINGS_CHANGED: Audience.TOKEN_UPLOAD_CONTACTS,
    EmailKind.SERVICE_ENDED: Audience.SERVICE_NOTIFICATION_CONTACTS,
    EmailKind.DNS_NOT_VERIFIED: Audience.STAFF,
    EmailKind.DNS_DRIFT: Audience.STAFF,
    EmailKind.EMAIL_FAILED: Audience.STAFF,
    EmailKind.GATEWAY_PROBLEM: Audience.STAFF,
}


def recipients_for(kind: str, tenant: Tenant | None) -> list[str]:
    audience = AUDIENCE[EmailKind(kind)]
    if audience == Audience.STAFF:
        return list(settings.STAFF_NOTIFICATION_EMAILS)
    if tenant is None:
        raise ValueError(f"A {EmailKind(kind).label} email goes to a tenant's contacts: name it.")
    if audience == Audience.TOKEN_UPLOAD_CONTACTS:
        return tenant.token_upload_recipients
    return tenant.service_notification_recipients


def tenant_context(tenant: Tenant, domains: list[CallingDomain] | None = None) -> dict[str, Any]:
    """What every tenant email shows; `domains`: its customer-facing calling domains, when the
    caller has them already."""
    values = instructions.tenant_values(tenant, domains)
    return {
        "tenant": tenant,
        "values": values,
        **instructions.customer_context(tenant, values),
    }


@dataclass(frozen=True)
class UploadLink:
    """A freshly issued upload link, as an email shows it."""

    url: str
    expires_at: datetime


def _link_context(link: UploadLink) -> dict[str, Any]:
    return {"upload_url": link.url, "upload_expires_at": link.expires_at}


def initial_email_queue(
    tenant: Tenant, idempotency_key: str, now: datetime, *, link: UploadLink
) -> OutboundEmail:
    """The invitation to upload the token, with a fresh link, to the token-upload contacts."""
    return email_queue(
        kind=EmailKind.INITIAL,
        idempotency_key=idempotency_key,
        recipients=recipients_for(EmailKind.INITIAL, tenant),
        tenant=tenant,
        context={**tenant_context(tenant), **_link_context(link)},
        now=now,
    )


def new_link_queue(
    tenant: Tenant, idempotency_key: str, now: datetime, *, link: UploadLink
) -> OutboundEmail:
    """A new link (which revoked the earlier ones) to the token-upload contacts only."""
    return email_queue(
        kind=EmailKind.NEW_LINK,
        idempotency_key=idempotency_key,
        recipients=recipients_for(EmailKind.NEW_LINK, tenant),
        tenant=tenant,
        context={**tenant_context(tenant), **_link_context(link)},
        now=now,
    )


def confirmation_key(tenant: Tenant, token: SecurityToken) -> str:
    return f"confirmation:{tenant.pk}:{token.pk}"


def confirmation_queue(
    tenant: Tenant,
    token: SecurityToken,
    now: datetime,
    *,
    domains: list[CallingDomain] | None = None,
) -> OutboundEmail:
    """The service is ready: to the service-notification contacts."""
    return email_queue(
        kind=EmailKind.CONFIRMATION,
        idempotency_key=confirmation_key(tenant, token),
        recipients=recipients_for(EmailKind.CONFIRMATION, tenant),
        tenant=tenant,
        context={**tenant_context(tenant, domains), "token": token},
        now=now,
    )


def token_replaced_queue(tenant: Tenant, token: SecurityToken, now: datetime) -> OutboundEmail:
    return email_queue(
        kind=EmailKind.TOKEN_REPLACED,
        idempotency_key=f"token_replaced:{tenant.pk}:{token.pk}",
        recipients=recipients_for(EmailKind.TOKEN_REPLACED, tenant),
        tenant=tenant,
        context={**tenant_context(tenant), "token": token},
        now=now,
    )


def reminder_queue(
    tenant: Tenant, idempotency_key: str, step: int, now: datetime, *, link: UploadLink
) -> OutboundEmail:
    """A reminder with a fresh link (the earlier link stops working, and the email says so)."""
    assert tenant.invited_at is not None  # reminders go to invited tenants only
    return email_queue(
        kind=EmailKind.REMINDER,
        idempotency_key=idempotency_key,
        recipients=recipients_for(EmailKind.REMINDER, tenant),
        tenant=tenant,
        context={
            **tenant_context(tenant),
            **_link_context(link),
            "step": step,
            "days_since_invited": (now - tenant.invited_at).days,
        },
        now=now,
    )


def dns_instructions_key(calling_domain: CallingDomain) -> str:
    # the name is part of it: a renamed domain needs new records, so new instructions
    return f"dns_instructions:{calling_domain.pk}:{calling_domain.domain}"


def dns_instructions_queue_new(
    tenant: Tenant, own_domains: list[CallingDomain], now: datetime, *, dns_status_url: str
) -> list[OutboundEmail]:
    """One DNS instructions email per own domain, the first time the tenant has it."""
    keys = {dns_instructions_key(cd): cd for cd in own_domains if cd.verified_at is None}
    sent = set(
        OutboundEmail.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", flat=True
        )
    )
    return [
        dns_instructions_queue(tenant, calling_domain, key, now, dns_status_url=dns_status_url)
        for key, calling_domain in keys.items()
        if key not in sent
    ]


def dns_instructions_queue(
    tenant: Tenant,
    calling_domain: CallingDomain,
    idempotency_key: str,
    now: datetime,
    *,
    dns_status_url: str,
) -> OutboundEmail:
    """The records to publish, the ownership code and the DNS status link."""
    return email_queue(
        kind=EmailKind.DNS_INSTRUCTIONS,
        idempotency_key=idempotency_key,
        recipients=recipients_for(EmailKind.DNS_INSTRUCTIONS, tenant),
        tenant=tenant,
        context={
            **tenant_context(tenant),
            "calling_domain": calling_domain,
            "records": calling_domain.expected_records(),
            "dns_status_url": dns_status_url,
        },
        now=now,
    )


def settings_changed_queue(
    tenant: Tenant, changes: list[Any], idempotency_key: str, now: datetime
) -> OutboundEmail:
    """What the customer must change in Google Admin (or DNS), old value -> new value, to the
    token-upload contacts. Not composable again: the changes belong to the moment they happened."""
    return email_queue(
        kind=EmailKind.SETTINGS_CHANGED,
        idempotency_key=idempotency_key,
        recipients=recipients_for(EmailKind.SETTINGS_CHANGED, tenant),
        tenant=tenant,
        context={**tenant_context(tenant), "changes": changes},
        now=now,
    )


def service_ended_queue(tenant: Tenant, now: datetime) -> OutboundEmail:
    """The service ended: to the service-notification contacts, once per offboarding."""
    return email_queue(
        kind=EmailKind.SERVICE_ENDED,
        idempotency_key=f"service_ended:{tenant.pk}",
        recipients=recipients_for(EmailKind.SERVICE_ENDED, tenant),
        tenant=tenant,
        context={**tenant_context(tenant), "ended_at": now},
        now=now,
    )
