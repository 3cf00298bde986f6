"""What the staff DNS alerts (DNS drift, DNS not verified) show, built in one place for the
email the DNS sweep queues and for its preview on the tenant's admin page."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from django.conf import settings

from onboarding.domain import domain_names
from onboarding.models import CallingDomain


class AlertRecord(TypedDict):
    """One expected record as the alert lists it: its latest verdict and what was found."""

    name: str
    type: str
    expected: str
    verdict: str
    found: str


def tenant_admin_url(tenant_id: int) -> str:
    # absolute: the email is read outside the portal
    return f"{settings.PORTAL_BASE_URL}/admin/onboarding/tenant/{tenant_id}/change/"


def dns_alert_context(
    *,
    calling_domain: CallingDomain,
    tenant_status: str,
    records: list[AlertRecord],
    checked_at: datetime | None,
    **extra: Any,
) -> dict[str, Any]:
    tenant = calling_domain.tenant
    return {
        "tenant": tenant,
        "tenant_status": tenant_status,
        "domain": domain_names.display_domain(calling_domain.domain),
        "checked_at": checked_at,
        "records": records,
        "admin_url": tenant_admin_url(tenant.pk),
        **extra,
    }
