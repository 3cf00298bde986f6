"""Every email kind as it would go to one tenant, for staff to read before it is sent.

Nothing is recorded and no link is issued: links are shown as a placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.utils import timezone

from onboarding.mail import composers, outbox, staff_alerts
from onboarding.models import (
    CallingDomain,
    EmailKind,
    OutboundEmail,
    SecurityToken,
    Tenant,
    TokenState,
)

LINK_PLACEHOLDER = f"{settings.PORTAL_BASE_URL}/upload/[a fresh link is issued when sent]/"
DNS_LINK_PLACEHOLDER = f"{settings.PORTAL_BASE_URL}/dns-status/[the tenant's DNS status link]/"
# Emails about an own domain's DNS: a tenant without one never receives them.
OWN_DOMAIN_KINDS = frozenset(
    {EmailKind.DNS_INSTRUCTIONS, EmailKind.DNS_DRIFT, EmailKind.DNS_NOT_VERIFIED}
)
NO_OWN_DOMAIN = "This tenant has no own domain, so it never receives this email."


@dataclass(frozen=True)
class DnsSample:
    """The own domain the DNS emails are previewed for, with its latest verdicts (the caller
    reads them: the DNS layer sits above this one)."""

    calling_domain: CallingDomain
    records: list[staff_alerts.AlertRecord]
    checked_at: datetime | None
    # what the "not verified after N days" alert would say
    days_waiting: int


@dataclass(frozen=True)
class Preview:
    kind: str
    label: str
    recipients: list[str]
    rendered: outbox.RenderedEmail | None
    # why there is nothing to show, when `rendered` is None
    not_applicable: str = ""


def sample_context(
    kind: str,
    tenant: Tenant,
    *,
    sample_changes: list[Any],
    tenant_status: str = "",
    dns_sample: DnsSample | None = None,
) -> dict[str, Any]:
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
            recipients=composers.recipients_for(EmailKind.INITIAL, tenant),
            attempts=settings.OUTBOX_MAX_ATTEMPTS,
            created_at=now - timedelta(hours=1),
        ),
        "error": "SMTP 550: (the mail server's answer)",
        "changes": sample_changes,
        "ended_at": now,
        **_dns_context(kind, tenant, tenant_status, dns_sample, now),
    }


def _dns_context(
    kind: str, tenant: Tenant, tenant_status: str, sample: DnsSample | None, now: datetime
) -> dict[str, Any]:
    """The DNS instructions' and the staff DNS alerts' own values, for the sample domain, as
    composers.dns_instructions_queue and dns/notices.py give them."""
    if sample is None:
        return {}
    calling_domain = sample.calling_domain
    if kind == EmailKind.DNS_INSTRUCTIONS:
        return {"calling_domain": calling_domain, "records": calling_domain.expected_records()}
    return staff_alerts.dns_alert_context(
        calling_domain=calling_domain,
        tenant_status=tenant_status or tenant.get_status_display(),
        records=sample.records,
        checked_at=sample.checked_at or now,
        days=sample.days_waiting,
    )


def tenant_previews(
    tenant: Tenant,
    *,
    sample_changes: list[Any],
    tenant_status: str = "",
    dns_sample: DnsSample | None = None,
) -> list[Preview]:
    """Every kind for this tenant; `sample_changes`: what a settings-changed email would list;
    `dns_sample`: the own domain (and its latest verdicts) the DNS emails are shown for."""
    previews = []
    for kind in EmailKind:
        recipients = composers.recipients_for(kind, tenant)
        if kind in OWN_DOMAIN_KINDS and dns_sample is None:
            previews.append(Preview(kind, kind.label, recipients, None, NO_OWN_DOMAIN))
            continue
        context = sample_context(
            kind,
            tenant,
            sample_changes=sample_changes,
            tenant_status=tenant_status,
            dns_sample=dns_sample,
        )
        try:
            rendered = outbox.render(kind, context)
        except TemplateDoesNotExist:
            rendered = None
        previews.append(Preview(kind, kind.label, recipients, rendered))
    return previews
