"""Many tenants at once for the dashboard's query-count test and bench/dashboard.py.

Rows go in with bulk_create (10,000 tenants in seconds), shaped like what the lifecycle writes:
every state, own domains with failing DNS checks, invitation emails (some failed), activations
with their audit events, drift flags. The dashboard's queries must not grow with any of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from onboarding.domain.calling_domains import CallingDomainOption
from onboarding.models import (
    ActorKind,
    AuditEvent,
    CallingDomain,
    DnsCheck,
    DnsVerdict,
    EmailKind,
    Gateway,
    OutboundEmail,
    OutboxStatus,
    Tenant,
    TenantStatus,
    UploadInvitation,
)
from onboarding.services import lifecycle, provisioning, tenant_creation, tokens
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec

S = TenantStatus
# the mix of states, repeated: mostly active, some waiting, a few of the rest
STATE_CYCLE = (
    S.ACTIVE,
    S.ACTIVE,
    S.ACTIVE,
    S.INVITED,
    S.DNS_PENDING,
    S.DRAFT,
    S.SUSPENDED,
    S.OFFBOARDED,
)
BATCH = 2000
SYSTEM = Actor.system("test")
CUSTOMER = Actor.customer("198.51.100.7")
SRV_LABELS = ("_sips._tcp", "_sip._tcp", "_h323cs._tcp")


def tenants_bulk_create(count: int, *, now: datetime, first: int = 0) -> list[Tenant]:
    """`count` tenants named "Bulk <n>" from number `first` on, with their related rows."""
    gateway = Gateway.objects.get(is_default=True)
    tenants = []
    for number in range(first, first + count):
        status = STATE_CYCLE[number % len(STATE_CYCLE)]
        # spread over 60 days, so some of each waiting state are stuck and some are not
        changed = now - timedelta(days=(number * 7) % 60, hours=number % 24)
        invited = status in (S.INVITED, S.ACTIVE, S.SUSPENDED)
        tenants.append(
            Tenant(
                name=f"Bulk {number:05d}",
                status=status,
                status_changed_at=changed,
                main_contact_email=f"it@bulk{number}.test",
                gateway=gateway,
                invited_at=changed - timedelta(days=3)
                if status == S.ACTIVE
                else (changed if invited else None),
                created_at=changed - timedelta(days=10),
            )
        )
    tenants = Tenant.objects.bulk_create(tenants, batch_size=BATCH)
    domains, checks, events, emails = [], [], [], []
    for number, tenant in enumerate(tenants, start=first):
        own = tenant.status == S.DNS_PENDING
        domain = CallingDomain(
            tenant=tenant,
            option=CallingDomainOption.OWN if own else CallingDomainOption.ONPEXIP,
            domain=f"video.bulk{number}.test" if own else f"bulk{number}.onpexip.com",
            retired_at=tenant.status_changed_at if tenant.status == S.OFFBOARDED else None,
            drift_flagged_at=tenant.status_changed_at
            if number % 40 == 0 and tenant.status == S.ACTIVE
            else None,
            verified_at=None,
        )
        domains.append(domain)
        if tenant.invited_at:
            events.append(_event(tenant, "enabled", S.INVITED, tenant.invited_at))
        if tenant.status == S.ACTIVE:
            events.append(_event(tenant, "token_stored", S.ACTIVE, tenant.status_changed_at))
            ready = _event(tenant, "gateway_has_token", "", tenant.status_changed_at)
            ready.detail = {"replacement": False}
            events.append(ready)
        if tenant.status == S.INVITED:
            emails.append(
                _email(tenant, EmailKind.INITIAL, tenant.invited_at, failed=number % 20 == 3)
            )
            emails.append(_email(tenant, EmailKind.REMINDER, tenant.invited_at + timedelta(days=3)))
    CallingDomain.objects.bulk_create(domains, batch_size=BATCH)
    for number, domain in enumerate(domains, start=first):
        if domain.option != CallingDomainOption.OWN:
            continue
        for index, label in enumerate(SRV_LABELS):
            verdict = (DnsVerdict.OK, DnsVerdict.MISSING, DnsVerdict.MISMATCH, DnsVerdict.UNKNOWN)[
                (number + index) % 4
            ]
            checks.append(_check(domain, f"{label}.{domain.domain}.", "SRV", verdict))
        checks.append(
            _check(domain, f"_pexip-verification.{domain.domain}.", "TXT", DnsVerdict.MISSING)
        )
    DnsCheck.objects.bulk_create(checks, batch_size=BATCH)
    AuditEvent.objects.bulk_create(events, batch_size=BATCH)
    OutboundEmail.objects.bulk_create(emails, batch_size=BATCH)
    return tenants


def _event(tenant: Tenant, action: str, to_status: str, at: datetime) -> AuditEvent:
    return AuditEvent(
        tenant=tenant,
        action=action,
        to_status=to_status,
        actor_kind=ActorKind.SYSTEM,
        actor_label="bulk",
        created_at=at,
    )


def _email(tenant: Tenant, kind: str, at: datetime, *, failed: bool = False) -> OutboundEmail:
    return OutboundEmail(
        tenant=tenant,
        kind=kind,
        idempotency_key=f"bulk:{kind}:{tenant.pk}",
        recipients=[tenant.main_contact_email],
        subject=f"{kind} for {tenant.name}",
        status=OutboxStatus.FAILED if failed else OutboxStatus.SENT,
        attempts=8 if failed else 1,
        last_error="550 mailbox unavailable" if failed else "",
        created_at=at,
        sent_at=None if failed else at,
    )


def _check(domain: CallingDomain, name: str, rdtype: str, verdict: str) -> DnsCheck:
    return DnsCheck(
        calling_domain=domain,
        record_name=name,
        record_type=rdtype,
        expected_value="gateway.example.com. 5061" if rdtype == "SRV" else "pexip-verification=x",
        verdict=verdict,
        found=["other.example.net. 5061"] if verdict == DnsVerdict.MISMATCH else [],
        detail="no such name" if verdict == DnsVerdict.MISSING else "",
        checked_at=domain.created_at,
    )


# One tenant at a time, through the real lifecycle -----------------------------------------------


def token_upload(tenant: Tenant, *, at: datetime) -> None:
    """The customer uploads a token through the tenant's live link, at `at`."""
    invitation = UploadInvitation.objects.filter(
        tenant=tenant, used_at__isnull=True, revoked_at__isnull=True
    ).latest("created_at")
    token = f"token-{tenant.pk}-{at.timestamp():.0f}"
    tokens.token_store(invitation=invitation, token=token, actor=CUSTOMER, now=at)


def activated(
    name: str, *, at: datetime, took: timedelta, gateway_after: timedelta = timedelta(0)
) -> Tenant:
    """A tenant enabled at `at - took - gateway_after`, whose token is stored then and whose
    gateway has it at `at` (ready), through the real lifecycle (a manual gateway: staff
    confirm)."""
    enabled_at = at - took
    uploaded_at = at - gateway_after
    tenant = tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name.lower()}.test",
        calling_domains=[CallingDomainSpec(option="onpexip", domain=name.lower())],
        actor=SYSTEM,
        now=enabled_at - timedelta(hours=1),
    ).tenant
    lifecycle.tenant_enable(tenant=tenant, actor=SYSTEM, now=enabled_at)
    token_upload(tenant, at=uploaded_at)
    provisioning.manual_configured_confirm(tenant=tenant, actor=SYSTEM, now=at)
    return tenant
