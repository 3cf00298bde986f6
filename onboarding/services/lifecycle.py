"""The tenant state machine: every transition, its preconditions and its audit event.

Creating tenants and saving calling domains live in `tenant_creation.py`; who did what, in
`audit.py`.

A transition is a conditional UPDATE (`filter(pk=..., status=<from>).update(status=<to>)`), so when
two workers or two staff members race, exactly one wins and the other is refused. Every function
takes `now` so tests set the clock instead of waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from onboarding.models import (
    AuditEvent,
    CallingDomain,
    Tenant,
    TenantStatus,
)
from onboarding.services import link_emails
from onboarding.services.audit import Actor, TransitionRefused, audit_record

S = TenantStatus

# Which states each transition leaves from (architecture.md, "The tenant's life").
ENABLE_FROM = frozenset({S.DRAFT, S.DNS_PENDING})
SUSPEND_FROM = frozenset({S.DNS_PENDING, S.INVITED, S.ACTIVE})
RESUME_FROM = frozenset({S.SUSPENDED})
OFFBOARD_FROM = frozenset(set(S) - {S.OFFBOARDED})
AWAIT_DNS_FROM = frozenset({S.DRAFT})
ACTIVATE_FROM = frozenset({S.INVITED})
REVOKE_FROM = frozenset({S.ACTIVE})


# Calling domains added ----------------------------------------------------------------------------


def tenant_domains_changed(tenant: Tenant, *, actor: Actor, now: datetime | None = None) -> Tenant:
    """After calling domains were added: a draft tenant with an own domain waits for DNS.

    An own domain added to an invited or active tenant waits for DNS on its own; the tenant keeps
    its state.
    """
    own_domains = list(CallingDomain.objects.in_use().own().filter(tenant=tenant))
    if own_domains:
        link_emails.dns_instructions_send_new(tenant, own_domains, now or timezone.now())
    current = Tenant.objects.filter(pk=tenant.pk).values_list("status", flat=True).first()
    if own_domains and current in AWAIT_DNS_FROM:
        return _transition(
            tenant,
            action="dns_pending",
            allowed_from=AWAIT_DNS_FROM,
            to_state=lambda _current: S.DNS_PENDING,
            actor=actor,
            now=now,
        )
    return tenant


# Transitions -----------------------------------------------------------------------------------


def tenant_enable(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> Tenant:
    """Enable onboarding: the tenant is invited to upload its token.

    Refused while any own domain is unverified, or when the tenant has no calling domain.
    """
    now = now or timezone.now()
    return _transition(
        tenant,
        action="enabled",
        allowed_from=ENABLE_FROM,
        to_state=lambda _current: S.INVITED,
        actor=actor,
        now=now,
        precondition=_enable_precondition,
        updates=lambda _current: {"invited_at": now},
        then=_invite,
    )


def _invite(tenant: Tenant, event: AuditEvent, now: datetime) -> None:
    tenant.refresh_from_db()
    link_emails.initial_email_send(tenant, f"initial:{tenant.pk}:{event.pk}", now)


def tenant_activate(
    *,
    tenant: Tenant,
    actor: Actor,
    now: datetime | None = None,
    detail: dict[str, Any] | None = None,
    locked: bool = False,
) -> Tenant:
    """The first token is stored: the tenant is active (tokens.token_store calls this).

    `locked`: the caller holds the tenant's row lock in its transaction and `tenant` was read
    under it, so its status is the current one.
    """
    return _transition(
        tenant,
        action="token_stored",
        allowed_from=ACTIVATE_FROM,
        to_state=lambda _current: S.ACTIVE,
        actor=actor,
        now=now,
        detail=detail,
        status_under_lock=tenant.status if locked else None,
    )


def tenant_revoke_token(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> Tenant:
    """Back to invited; tokens.token_revoke also retires the token and sends a new link."""
    now = now or timezone.now()
    return _transition(
        tenant,
        action="token_revoked",
        allowed_from=REVOKE_FROM,
        to_state=lambda _current: S.INVITED,
        actor=actor,
        now=now,
        updates=lambda _current: {"invited_at": now},
    )


def _enable_precondition(tenant: Tenant) -> None:
    domains = list(CallingDomain.objects.in_use().filter(tenant=tenant))
    if not domains:
        raise TransitionRefused(
            f"{tenant.name} has no calling domain yet. Add one before enabling the tenant."
        )
    unverified = [d.domain for d in domains if d.needs_dns and d.verified_at is None]
    if unverified:
        names = ", ".join(unverified)
        raise TransitionRefused(
            f"{tenant.name} cannot be enabled yet: DNS for {names} is not verified. Enable it "
            "once the records check out, or tick 'enable automatically once DNS verifies'."
        )


def tenant_suspend(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> Tenant:
    """Pause onboarding; the token is kept and resume returns to the earlier state."""
    return _transition(
        tenant,
        action="suspended",
        allowed_from=SUSPEND_FROM,
        to_state=lambda _current: S.SUSPENDED,
        actor=actor,
        now=now,
        updates=lambda current: {"status_before_suspension": current},
    )


def tenant_resume(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> Tenant:
    """Back to the state it was suspended from. Reminders count the suspension as paused time,
    and a tenant whose DNS verified meanwhile is enabled if staff chose that."""
    now = now or timezone.now()
    row: Mapping[str, Any] = (
        Tenant.objects.filter(pk=tenant.pk)
        .values("status_before_suspension", "status_changed_at", "invited_at")
        .first()
        or {}
    )

    def earlier_state(_current: str) -> str:
        return row.get("status_before_suspension") or S.INVITED

    def pause_reminders(_current: str) -> dict[str, Any]:
        changes: dict[str, Any] = {"status_before_suspension": ""}
        if row.get("invited_at") and row.get("status_changed_at"):
            changes["invited_at"] = row["invited_at"] + (now - row["status_changed_at"])
        return changes

    resumed = _transition(
        tenant,
        action="resumed",
        allowed_from=RESUME_FROM,
        to_state=earlier_state,
        actor=actor,
        now=now,
        updates=pause_reminders,
    )
    if resumed.status == S.DNS_PENDING:
        resumed = tenant_dns_verified(tenant=resumed, actor=actor, now=now)
    return resumed


def _transition(
    tenant: Tenant,
    *,
    action: str,
    allowed_from: frozenset[str],
    to_state: Callable[[str], str],
    actor: Actor,
    now: datetime | None = None,
    precondition: Callable[[Tenant], None] | None = None,
    updates: Callable[[str], dict[str, Any]] | None = None,
    detail: dict[str, Any] | None = None,
    then: Callable[[Tenant, AuditEvent, datetime], None] | None = None,
    status_under_lock: str | None = None,
) -> Tenant:
    """Move the tenant from a state in `allowed_from`, recording who did it, or refuse.

    `status_under_lock`: the caller already holds the tenant's row lock in its transaction and
    read this status under it, so neither a savepoint nor a second read is needed (the upload,
    which bench/web.py measures, saves three statements this way).
    """
    now = now or timezone.now()
    if status_under_lock is not None and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("status_under_lock needs the caller's transaction and row lock")
    block = transaction.atomic(savepoint=status_under_lock is None)
    with block:
        current = status_under_lock or (
            Tenant.objects.select_for_update()
            .filter(pk=tenant.pk)
            .values_list("status", flat=True)
            .first()
        )
        if current is None:
            raise TransitionRefused("This tenant does not exist.")
        if current not in allowed_from:
            raise TransitionRefused(_refusal(tenant, action, current, allowed_from))
        if precondition is not None:
            precondition(tenant)
        target = to_state(current)
        changes = {"status": target, "status_changed_at": now}
        if updates is not None:
            changes.update(updates(current))
        won = Tenant.objects.filter(pk=tenant.pk, status=current).update(**changes)
        if won != 1:
            raise TransitionRefused(
                f"{tenant.name} changed while this was being done; reload and try again."
            )
        event = audit_record(
            tenant=tenant,
            action=action,
            actor=actor,
            now=now,
            from_status=current,
            to_status=target,
            detail=detail,
        )
        if then is not None:
            then(tenant, event, now)
    for name, value in changes.items():
        setattr(tenant, name, value)
    return tenant


_ACTION_WORDS = {
    "enabled": "enabled",
    "suspended": "suspended",
    "resumed": "resumed",
    "dns_pending": "moved to DNS pending",
    "offboarded": "offboarded",
    "token_stored": "activated",
    "token_revoked": "revoked",
}


def _refusal(tenant: Tenant, action: str, current: str, allowed_from: frozenset[str]) -> str:
    current_label = TenantStatus(current).label.lower()
    allowed = ", ".join(sorted(TenantStatus(s).label.lower() for s in allowed_from))
    return (
        f"{tenant.name} is {current_label}, so it cannot be {_ACTION_WORDS.get(action, action)}; "
        f"that is possible only from: {allowed}."
    )


def status_label(tenant: Tenant, own_domains: Sequence[CallingDomain] | None = None) -> str:
    """The status as staff read it, with 'DNS verified, awaiting enable' spelled out."""
    if tenant.status == S.DNS_PENDING:
        if own_domains is None:
            own_domains = [d for d in tenant.calling_domains.all() if d.needs_dns]
        own_in_use = [d for d in own_domains if d.needs_dns and d.retired_at is None]
        if own_in_use and all(d.verified_at for d in own_in_use):
            return "DNS verified, awaiting enable"
    return TenantStatus(tenant.status).label


def tenant_dns_verified(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> Tenant:
    """An own domain of this tenant verified: enable it when staff chose "enable automatically
    once DNS verifies" and every own domain is verified now. Otherwise nothing changes."""
    tenant.refresh_from_db()
    if tenant.status != S.DNS_PENDING or not tenant.enable_when_dns_verified:
        return tenant
    own = CallingDomain.objects.in_use().own().filter(tenant=tenant)
    if own.filter(verified_at__isnull=True).exists():
        return tenant
    return tenant_enable(tenant=tenant, actor=actor, now=now)
