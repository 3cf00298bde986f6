"""Every email kind as it would go to one tenant, for staff to read before it is sent.

Nothing is recorded and no link is issued: links are shown as a placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.utils import timezone

from onboarding.mail import composers, outbox
from onboarding.models import EmailKind, OutboundEmail, SecurityToken, Tenant, TokenState

LINK_PLACEHOLDER = f"{settings.PORTAL_BASE_URL}/upload/[a fresh link is issued when sent]/"
DNS_LINK_PLACEHOLDER = f"{settings.PORTAL_BASE_URL}/dns-status/[the tenant's DNS status link]/"

# who receives each kind (domain.md, "Emails"), for the preview's header
RECIPIENTS: dict[str, str] = {
    EmailKind.DNS_INSTRUCTIONS: "token-upload contacts",
    EmailKind.INITIAL: "token-upload contacts",
    EmailKind.REMINDER: "token-upload contacts",
    EmailKind.NEW_LINK: "token-upload contacts",
    EmailKind.CONFIRMATION: "service-notification contacts",
    EmailKind.TOKEN_REPLACED: "service-notification contacts",
    EmailKind.SETTINGS_CHANGED: "token-upload contacts",
    EmailKind.SERVICE_ENDED: "service-notification contacts",
    EmailKind.DNS_NOT_VERIFIED: "staff",
    EmailKind.DNS_DRIFT: "staff",
    EmailKind.EMAIL_FAILED: "staff",
}


@dataclass(frozen=True)
class Preview:
    kind: str
    label: str
    recipients: list[str]
    rendered: outbox.RenderedEmail | None


def recipients_for(kind: str, tenant: Tenant) -> list[str]:
    audience = RECIPIENTS.get(kind, "")
    if audience == "token-upload contacts":
        return tenant.token_upload_recipients
    if audience == "service-notification contacts":
        return tenant.service_notification_recipients
    return list(settings.STAFF_NOTIFICATION_EMAILS)


def sample_context(kind: str, tenant: Tenant, *, sample_changes: list[Any]) -> dict[str, Any]:
    now = timezone.now()
    token = SecurityToken.objects.filter(
        tenant=tenant, state=TokenState.CURRENT
    ).first() or SimpleNamespace(uploaded_at=now, fingerprint="(fingerprint)")
    return {
        **composers.tenant_context(tenant),
        "upload_url": LINK_PLACEHOLDER,
        "upload_expires_at": now + settings.UPLOAD_LINK_MAX_AGE,
        "dns_status_url": DNS_LINK_PLACEHOLDER,
        "token": token,
        "step": 1,
        "days_since_invited": min(settings.REMINDER_AFTER_DAYS),
        "failed": OutboundEmail(
            pk=0,
            kind=EmailKind.INITIAL,
            recipients=tenant.token_upload_recipients,
            attempts=settings.OUTBOX_MAX_ATTEMPTS,
            created_at=now - timedelta(hours=1),
        ),
        "error": "SMTP 550: (the mail server's answer)",
        "changes": sample_changes,
        "ended_at": now,
    }


def tenant_previews(tenant: Tenant, *, sample_changes: list[Any]) -> list[Preview]:
    """Every kind for this tenant; `sample_changes`: what a settings-changed email would list."""
    previews = []
    for kind in EmailKind:
        try:
            rendered = outbox.render(
                kind, sample_context(kind, tenant, sample_changes=sample_changes)
            )
        except TemplateDoesNotExist:
            rendered = None
        previews.append(Preview(kind, kind.label, recipients_for(kind, tenant), rendered))
    return previews
