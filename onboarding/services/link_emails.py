"""The emails that carry a link: issue the link, then record the email in the same transaction.

Issuing an upload link revokes the tenant's earlier ones, so a repeat of an email already
recorded must not issue another (it would revoke the link in that email). Callers check first
that the tenant may be sent a link (the transition table's ISSUE_UPLOAD_LINK, in lifecycle.py).
"""

from __future__ import annotations

from datetime import datetime

from onboarding.mail import composers
from onboarding.mail.composers import UploadLink
from onboarding.models import CallingDomain, OutboundEmail, Tenant
from onboarding.services import invitations


def _existing(idempotency_key: str) -> OutboundEmail | None:
    return OutboundEmail.objects.filter(idempotency_key=idempotency_key).first()


def _shown(issued: invitations.IssuedLink) -> UploadLink:
    return UploadLink(url=issued.url, expires_at=issued.invitation.expires_at)


def initial_email_send(
    tenant: Tenant, idempotency_key: str, now: datetime, issued_by: str = ""
) -> OutboundEmail:
    """The invitation to upload the token, with a fresh link, to the token-upload contacts."""
    existing = _existing(idempotency_key)
    if existing is not None:
        return existing
    issued = invitations.invitation_issue(tenant=tenant, issued_by=issued_by, now=now)
    return composers.initial_email_queue(tenant, idempotency_key, now, link=_shown(issued))


def new_link_send(tenant: Tenant, issued_by: str, now: datetime) -> invitations.IssuedLink:
    """A new link (which revokes the earlier ones) to the token-upload contacts only."""
    issued = invitations.invitation_issue(tenant=tenant, issued_by=issued_by, now=now)
    composers.new_link_queue(tenant, new_link_key(tenant, issued), now, link=_shown(issued))
    return issued


def new_link_key(tenant: Tenant, issued: invitations.IssuedLink) -> str:
    return f"new_link:{tenant.pk}:{issued.invitation.pk}"


def reminder_send(tenant: Tenant, idempotency_key: str, step: int, now: datetime) -> OutboundEmail:
    """A reminder with a fresh link (the earlier link stops working, and the email says so)."""
    existing = _existing(idempotency_key)
    if existing is not None:
        return existing
    issued = invitations.invitation_issue(tenant=tenant, issued_by="reminder", now=now)
    return composers.reminder_queue(tenant, idempotency_key, step, now, link=_shown(issued))


def dns_instructions_send_new(
    tenant: Tenant, own_domains: list[CallingDomain], now: datetime
) -> list[OutboundEmail]:
    """One DNS instructions email per own domain, the first time the tenant has it."""
    return composers.dns_instructions_queue_new(
        tenant, own_domains, now, dns_status_url=invitations.dns_status_url(tenant)
    )


def dns_instructions_send(
    tenant: Tenant, calling_domain: CallingDomain, idempotency_key: str, now: datetime
) -> OutboundEmail:
    return composers.dns_instructions_queue(
        tenant,
        calling_domain,
        idempotency_key,
        now,
        dns_status_url=invitations.dns_status_url(tenant),
    )
