"""What the staff dashboard shows: where every tenant stands, who is stuck and why, and whether
the background jobs run. Each part is one or two queries whatever the number of tenants; lists
show their first LIST_LIMIT rows and count the rest in the database.

The admin view (admin/dashboard.py) only renders what `dashboard_build` returns.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db.models import Case, Count, F, Q, QuerySet, When
from django.utils import timezone

from onboarding.models import (
    CallingDomain,
    DnsCheck,
    DnsVerdict,
    EmailKind,
    OutboundEmail,
    OutboxStatus,
    ProvisioningMode,
    ProvisioningState,
    SecurityToken,
    Tenant,
    TenantProvisioning,
    TenantStatus,
    TokenState,
    dns_verified_awaiting_enable,
)
from onboarding.selectors import activations
from onboarding.selectors.dashboard_chart import WeeklyChart
from onboarding.services import heartbeats

S = TenantStatus

# The states in which a tenant waits on someone (the customer's DNS, the customer's upload, or
# staff enabling a verified tenant); too long there and staff should look.
STUCK_STATES = (S.DNS_PENDING, S.INVITED)
# Rows per list: enough to work through at a glance; the totals are counted in full.
LIST_LIMIT = 50
# Verdicts of a record that keep an own domain unverified (ok and not-applicable do not).
FAILING_VERDICTS = (DnsVerdict.MISSING, DnsVerdict.MISMATCH, DnsVerdict.UNKNOWN)
CUSTOMER_MUST_ACT = (DnsVerdict.MISSING, DnsVerdict.MISMATCH)
# The emails that invite a tenant to upload its token.
INVITATION_KINDS = (EmailKind.INITIAL, EmailKind.NEW_LINK, EmailKind.REMINDER)


@dataclass(frozen=True)
class StateCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class Reason:
    """One line of why a tenant is stuck; `must_act` marks what someone has to fix."""

    text: str
    must_act: bool = False
    email: OutboundEmail | None = None


@dataclass
class StuckTenant:
    tenant: Tenant
    waiting_since: datetime
    waited: timedelta
    reasons: list[Reason] = field(default_factory=list)


@dataclass(frozen=True)
class GatewayWait:
    """An active tenant whose current token is not on its gateway yet, and why."""

    tenant: Tenant
    uploaded_at: datetime
    waited: timedelta
    reason: Reason


@dataclass
class Dashboard:
    now: datetime
    stuck_after: timedelta
    states: list[StateCount]
    total_tenants: int
    awaiting_enable: int
    stuck: list[StuckTenant]
    stuck_total: int
    failed_emails: list[OutboundEmail]
    failed_emails_total: int
    drifted_domains: list[CallingDomain]
    drifted_total: int
    liveness: heartbeats.Liveness
    medians: list[activations.MedianFigure]
    chart: WeeklyChart
    # active tenants whose gateway does not have their current token yet, oldest first
    awaiting_gateway: list[GatewayWait]
    awaiting_gateway_total: int


def dashboard_build(*, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    stuck_after = settings.STUCK_AFTER
    states, awaiting_enable, stuck_total = _state_counts(now - stuck_after)
    stuck = _stuck_tenants(now, stuck_after)
    failed = OutboundEmail.objects.filter(status=OutboxStatus.FAILED)
    drifted = CallingDomain.objects.in_use().filter(drift_flagged_at__isnull=False)
    return Dashboard(
        now=now,
        stuck_after=stuck_after,
        states=states,
        total_tenants=sum(s.count for s in states),
        awaiting_enable=awaiting_enable,
        stuck=stuck,
        stuck_total=stuck_total,
        failed_emails=list(
            failed.select_related("tenant")
            .defer("message_ciphertext")
            .order_by("-created_at", "-id")[:LIST_LIMIT]
        ),
        failed_emails_total=failed.count(),
        drifted_domains=list(
            drifted.select_related("tenant").order_by("drift_flagged_at", "id")[:LIST_LIMIT]
        ),
        drifted_total=drifted.count(),
        awaiting_gateway=awaiting_gateway(now),
        awaiting_gateway_total=_awaiting_gateway_tokens().count(),
        liveness=heartbeats.liveness_report(now=now),
        medians=activations.enable_to_active_medians(now=now),
        chart=activations.activations_chart(now=now),
    )


# Tenants per state and who is stuck ------------------------------------------------------------


def waiting_since() -> Case:
    """Since when a tenant has waited in its state. An invited tenant counts from `invited_at`,
    which a suspension pushes forward by the time spent suspended (as reminders do), so a
    resume does not hide how long the customer has had the link."""
    return Case(
        When(status=S.INVITED, invited_at__isnull=False, then=F("invited_at")),
        default=F("status_changed_at"),
    )


def _stuck_filter(cutoff: datetime) -> Q:
    return Q(status__in=STUCK_STATES, since__lte=cutoff)


def _state_counts(cutoff: datetime) -> tuple[list[StateCount], int, int]:
    verified_awaiting_enable = dns_verified_awaiting_enable()
    rows = (
        Tenant.objects.alias(since=waiting_since())
        .values("status")
        .annotate(
            total=Count("id"),
            stuck=Count("id", filter=_stuck_filter(cutoff)),
            awaiting_enable=Count("id", filter=verified_awaiting_enable),
        )
        .order_by()
    )
    by_status = {row["status"]: row for row in rows}
    states = [
        StateCount(status, label, by_status.get(status, {}).get("total", 0))
        for status, label in S.choices
    ]
    awaiting = sum(row["awaiting_enable"] for row in by_status.values())
    stuck = sum(row["stuck"] for row in by_status.values())
    return states, awaiting, stuck


def _stuck_tenants(now: datetime, stuck_after: timedelta) -> list[StuckTenant]:
    page = (
        Tenant.objects.annotate(since=waiting_since())
        .filter(_stuck_filter(now - stuck_after))
        .order_by("since", "id")[:LIST_LIMIT]
    )
    tenants = list(page)
    # The reasons are fetched for the page as a subquery, not a list of ids: an empty list
    # would skip its query, and the page's query count would depend on who is stuck.
    page_ids = page.values("pk")
    domains = _own_domains_by_tenant(page_ids)
    emails = _invitation_emails_by_tenant(page_ids)
    stuck = []
    for tenant in tenants:
        if tenant.status == S.DNS_PENDING:
            reasons = dns_reasons(domains.get(tenant.pk, []))
        else:
            reasons = upload_reasons(emails.get(tenant.pk, []))
        stuck.append(
            StuckTenant(
                tenant=tenant,
                waiting_since=tenant.since,
                waited=now - tenant.since,
                reasons=reasons,
            )
        )
    return stuck


def _own_domains_by_tenant(tenant_ids: QuerySet) -> dict[int, list[CallingDomain]]:
    """The own domains in use of the DNS-pending tenants among `tenant_ids`, each with its
    failing checks as `failing_checks`: two queries, whatever the number."""
    of_waiting = {"tenant__in": tenant_ids, "tenant__status": S.DNS_PENDING}
    domains = list(
        CallingDomain.objects.in_use().own().filter(**of_waiting).order_by("created_at", "id")
    )
    failing = DnsCheck.objects.filter(
        verdict__in=FAILING_VERDICTS,
        calling_domain__retired_at__isnull=True,
        **{f"calling_domain__{key}": value for key, value in of_waiting.items()},
    ).order_by("record_name", "id")
    checks: dict[int, list[DnsCheck]] = defaultdict(list)
    for check in failing:
        checks[check.calling_domain_id].append(check)
    by_tenant: dict[int, list[CallingDomain]] = defaultdict(list)
    for calling_domain in domains:
        calling_domain.failing_checks = checks.get(calling_domain.pk, [])
        by_tenant[calling_domain.tenant_id].append(calling_domain)
    return by_tenant


def _invitation_emails_by_tenant(tenant_ids: QuerySet) -> dict[int, list[OutboundEmail]]:
    emails = (
        OutboundEmail.objects.filter(
            tenant__in=tenant_ids, tenant__status=S.INVITED, kind__in=INVITATION_KINDS
        )
        .defer("message_ciphertext")
        .order_by("created_at", "id")
    )
    by_tenant: dict[int, list[OutboundEmail]] = defaultdict(list)
    for email in emails:
        # the filter above reads emails of tenants only: tenant_id is never NULL here
        by_tenant[cast(int, email.tenant_id)].append(email)
    return by_tenant


def dns_reasons(own_domains: list[CallingDomain]) -> list[Reason]:
    """Why a DNS-pending tenant waits: each unverified own domain's failing records, or, when
    every own domain is verified, that staff have not enabled it."""
    unverified = [d for d in own_domains if d.verified_at is None]
    if not unverified:
        return [Reason("DNS verified: waiting for staff to enable the tenant.", must_act=True)]
    reasons = []
    for calling_domain in unverified:
        checks = getattr(calling_domain, "failing_checks", [])
        if not checks:
            reasons.append(Reason(f"{calling_domain.domain}: not checked yet."))
        for check in checks:
            text = f"{calling_domain.domain}: {check.record_type} {check.record_name} "
            if check.verdict == DnsVerdict.UNKNOWN:
                text += "could not be checked (no answer); retrying"
            else:
                text += DnsVerdict(check.verdict).label
            if check.found_display:
                text += f" (found: {check.found_display})"
            reasons.append(Reason(text + ".", must_act=check.verdict in CUSTOMER_MUST_ACT))
    return reasons


def upload_reasons(emails: list[OutboundEmail]) -> list[Reason]:
    """Why an invited tenant waits: no token yet, and what the invitation emails did. The last
    initial email opens the story; the links and reminders after it follow, oldest first."""
    initials = [e for e in emails if e.kind == EmailKind.INITIAL]
    reasons = [Reason("No token uploaded yet.")]
    if initials:
        start = initials[-1]
        later = [e for e in emails if (e.created_at, e.pk) > (start.created_at, start.pk)]
        shown = [start, *(e for e in later if e.kind != EmailKind.INITIAL)]
    else:
        reasons.append(Reason("No initial email was recorded for this tenant.", must_act=True))
        shown = list(emails)
    for email in shown:
        reasons.append(_email_reason(email))
    if not any(e.kind == EmailKind.REMINDER for e in shown):
        reasons.append(Reason("No reminder sent yet."))
    return reasons


def _email_reason(email: OutboundEmail) -> Reason:
    label = email.get_kind_display()
    if email.status == OutboxStatus.SENT and email.sent_at:
        return Reason(f"{label} email sent {email.sent_at:%Y-%m-%d %H:%M} UTC.", email=email)
    if email.status == OutboxStatus.FAILED:
        return Reason(
            f"{label} email failed after {email.attempts} attempts: {email.last_error}",
            must_act=True,
            email=email,
        )
    return Reason(
        f"{label} email {email.get_status_display().lower()} "
        f"(queued {email.created_at:%Y-%m-%d %H:%M} UTC, {email.attempts} attempts so far).",
        email=email,
    )


# Waiting for the gateway -----------------------------------------------------------------------


def _awaiting_gateway_tokens() -> QuerySet:
    return SecurityToken.objects.filter(
        state=TokenState.CURRENT, gateway_has_token_at__isnull=True, tenant__status=S.ACTIVE
    )


def awaiting_gateway(now: datetime) -> list[GatewayWait]:
    tokens = (
        _awaiting_gateway_tokens()
        .select_related("tenant__gateway", "tenant__provisioning")
        .defer("ciphertext")
        .order_by("uploaded_at", "id")[:LIST_LIMIT]
    )
    return [
        GatewayWait(
            tenant=token.tenant,
            uploaded_at=token.uploaded_at,
            waited=now - token.uploaded_at,
            reason=gateway_reason(token.tenant),
        )
        for token in tokens
    ]


def gateway_reason(tenant: Tenant) -> Reason:
    """The last error, "awaiting staff", or what the gateway is being asked to do."""
    row: TenantProvisioning | None = getattr(tenant, "provisioning", None)
    gateway = tenant.gateway
    if gateway.provisioning == ProvisioningMode.INFINITY and gateway.provisioning_stopped_at:
        return Reason(f"Gateway stopped: {gateway.provisioning_stop_reason}", must_act=True)
    if row is None:
        return Reason("Pending: the gateway is about to be configured.")
    first_line = row.detail.splitlines()[0] if row.detail else ""
    if row.state == ProvisioningState.AWAITING_STAFF:
        return Reason(
            "Awaiting staff: configure the gateway by hand, then press “Configured on the "
            "gateway” on the tenant.",
            must_act=True,
        )
    if row.state == ProvisioningState.FAILED:
        return Reason(f"Failed: {row.detail}", must_act=True)
    return Reason(f"Pending: {first_line}" if first_line else "Pending: being configured.")
