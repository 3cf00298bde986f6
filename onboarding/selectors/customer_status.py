"""Where a tenant stands, for the customer's status page (the used upload link).

Only what the customer may see: states, times, the token's keyed fingerprint, DNS verdicts.
Never the token, never a link that acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from onboarding.dns import status_table, sweep
from onboarding.dns.sweep import DnsStatusRow
from onboarding.models import (
    AuditAction,
    CallingDomain,
    GatewayApiKey,
    SecurityToken,
    Tenant,
    TenantStatus,
)
from onboarding.services import invitations, tokens

S = TenantStatus
# What each state means for the customer, in plain words.
STATE_SENTENCES = {
    S.ACTIVE: "The service is active.",
    S.INVITED: "We are waiting for a new token: please upload it from the newest link we sent.",
    S.SUSPENDED: "The service is paused. Please contact support to continue.",
    S.DNS_PENDING: "We are waiting for your DNS records to be verified.",
    S.DRAFT: "Onboarding has not started yet.",
    S.OFFBOARDED: "The service has ended.",
}


@dataclass(frozen=True)
class OwnDomainStatus:
    domain: CallingDomain
    verified: bool
    drift_flagged: bool
    rows: list[DnsStatusRow]


@dataclass(frozen=True)
class TenantStatusView:
    tenant: Tenant
    state_sentence: str
    active_since: datetime | None
    token: SecurityToken | None
    gateway_pulls_feed: bool
    # when the gateway first fetched the current token; None while it has not
    token_fetched_by_gateway_at: datetime | None
    own_domains: list[OwnDomainStatus]
    dns_status_url: str


def tenant_status_view(tenant: Tenant) -> TenantStatusView:
    token = tokens.current_token(tenant)
    own = status_table.tenant_own_domains(tenant)
    return TenantStatusView(
        tenant=tenant,
        state_sentence=STATE_SENTENCES[TenantStatus(tenant.status)],
        active_since=_active_since(tenant),
        token=token,
        gateway_pulls_feed=GatewayApiKey.objects.gateway_pulls_feed(tenant.gateway_id),
        token_fetched_by_gateway_at=token.fetched_by_gateway_at if token else None,
        own_domains=[
            OwnDomainStatus(
                domain=cd,
                verified=cd.verified_at is not None,
                drift_flagged=cd.drift_flagged_at is not None,
                rows=sweep.dns_status_table(cd),
            )
            for cd in own
        ],
        dns_status_url=invitations.dns_status_url(tenant) if own else "",
    )


def _active_since(tenant: Tenant) -> datetime | None:
    """When the tenant last became active by a token (not when a suspension ended)."""
    if tenant.status != S.ACTIVE:
        return None
    return (
        tenant.audit_events.filter(action=AuditAction.TOKEN_STORED)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
