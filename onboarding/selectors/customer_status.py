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
    SecurityToken,
    Tenant,
    TenantStatus,
)
from onboarding.services import invitations, tokens

S = TenantStatus
# What each state means for the customer, in plain words: the page says exactly one of these.
STATE_SENTENCES = {
    S.ACTIVE: "The service is ready: your video systems can join your Google Meet meetings.",
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
    # when the gateway got the current token; None while it is being configured
    gateway_has_token_at: datetime | None
    # active, but the gateway or the DNS is not there yet: "ready" is not said
    ready: bool
    own_domains: list[OwnDomainStatus]
    dns_status_url: str


def tenant_status_view(tenant: Tenant) -> TenantStatusView:
    token = tokens.current_token(tenant)
    own = status_table.tenant_own_domains(tenant)
    has_token_at = token.gateway_has_token_at if token else None
    dns_ready = tokens.own_domains_ready(tenant)
    ready = tenant.status == S.ACTIVE and has_token_at is not None and dns_ready
    return TenantStatusView(
        tenant=tenant,
        state_sentence=_state_sentence(tenant, token, has_token_at, dns_ready),
        active_since=_active_since(tenant) if ready else None,
        token=token,
        gateway_has_token_at=has_token_at,
        ready=ready,
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


def _state_sentence(
    tenant: Tenant,
    token: SecurityToken | None,
    has_token_at: datetime | None,
    dns_ready: bool,
) -> str:
    if tenant.status == S.ACTIVE and token is not None:
        if has_token_at is None:
            return (
                "We received your token and your gateway is being configured. We email your "
                "service contacts as soon as the service is ready."
            )
        if not dns_ready:
            return (
                "Your gateway has the token. We are waiting for your DNS records to be "
                "verified; we email your service contacts as soon as the service is ready."
            )
    return STATE_SENTENCES[TenantStatus(tenant.status)]


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
