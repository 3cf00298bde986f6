"""The tenant state machine: THE table of which states each operation is allowed from, and
every transition with its precondition, its audit event and its side effects.

Creating tenants and saving calling domains live in `tenant_creation.py`; who did what, in
`audit.py`.

A transition is a conditional UPDATE (`filter(pk=..., status=<from>).update(status=<to>)`), so when
two workers or two staff members race, exactly one wins and the other is refused. Every function
takes `now` so tests set the clock instead of waiting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone

from onboarding.models import (
    DNS_VERIFIED_AWAITING_ENABLE,
    TENANT_DOMAINS_EDITABLE_IN_PLACE,
    AuditAction,
    AuditEvent,
    CallingDomain,
    Tenant,
    TenantStatus,
    is_dns_verified_awaiting_enable,
)
from onboarding.services import link_emails
from onboarding.services.audit import Actor, TransitionRefused, audit_record

S = TenantStatus


class Operation(StrEnum):
    """Everything that depends on the tenant's state; ALLOWED_FROM says from which states."""

    ENABLE = "enable"
    AWAIT_DNS = "await_dns"
    ACTIVATE = "activate"
    UPLOAD_TOKEN = "upload_token"  # noqa: S105 (an operation's name, not a secret)
    REVOKE_TOKEN = "revoke_token"  # noqa: S105 (an operation's name, not a secret)
    SUSPEND = "suspend"
    RESUME = "resume"
    OFFBOARD = "offboard"
    REINSTATE = "reinstate"
    CHANGE_SETTINGS = "change_settings"
    MOVE_DOMAIN = "move_domain"
    SWITCH_DOMAIN = "switch_domain"
    RETIRE_DOMAIN = "retire_domain"
    ISSUE_UPLOAD_LINK = "issue_upload_link"
    EDIT_DOMAINS_IN_PLACE = "edit_domains_in_place"
    HEAR_OF_GATEWAY_CHANGE = "hear_of_gateway_change"


# The one transition table (architecture.md, "The tenant's life"): every other module asks it.
ALLOWED_FROM: dict[Operation, frozenset[str]] = {
    Operation.ENABLE: frozenset({S.DRAFT, S.DNS_PENDING}),
    # a draft tenant that gets an own domain waits for its DNS
    Operation.AWAIT_DNS: frozenset({S.DRAFT}),
    # the first token makes an invited tenant active
    Operation.ACTIVATE: frozenset({S.INVITED}),
    # links go to invited or active tenants only, and only they accept a token (a later upload
    # replaces the token of an active one)
    Operation.UPLOAD_TOKEN: frozenset({S.INVITED, S.ACTIVE}),
    Operation.ISSUE_UPLOAD_LINK: frozenset({S.INVITED, S.ACTIVE}),
    Operation.REVOKE_TOKEN: frozenset({S.ACTIVE}),
    Operation.SUSPEND: frozenset({S.DNS_PENDING, S.INVITED, S.ACTIVE}),
    Operation.RESUME: frozenset({S.SUSPENDED}),
    Operation.OFFBOARD: frozenset(set(S) - {S.OFFBOARDED}),
    Operation.REINSTATE: frozenset({S.OFFBOARDED}),
    # changes of a live tenant, which the customer must follow in Google Admin
    Operation.CHANGE_SETTINGS: frozenset({S.INVITED, S.ACTIVE}),
    Operation.MOVE_DOMAIN: frozenset({S.INVITED, S.ACTIVE}),
    Operation.SWITCH_DOMAIN: frozenset({S.INVITED, S.ACTIVE}),
    # retiring takes something away, which a paused tenant may also want
    Operation.RETIRE_DOMAIN: frozenset({S.INVITED, S.ACTIVE, S.SUSPENDED}),
    # before the customer has any value, domains are edited in place (a row-level rule of the
    # calling domain model, which keeps the set)
    Operation.EDIT_DOMAINS_IN_PLACE: TENANT_DOMAINS_EDITABLE_IN_PLACE,
    # whose customers are told when their gateway's values change
    Operation.HEAR_OF_GATEWAY_CHANGE: frozenset({S.INVITED, S.ACTIVE, S.SUSPENDED}),
}


def allowed_from(operation: Operation) -> frozenset[str]:
    return ALLOWED_FROM[operation]


def is_allowed(operation: Operation, status: str) -> bool:
    return status in ALLOWED_FROM[operation]


# Calling domains added ----------------------------------------------------------------------------


def tenant_domains_changed(tenant: Tenant, *, actor: Actor, now: datetime | None = None) -> Tenant:
    """After calling domains were added: a draft tenant with an own domain waits for DNS.

    An own domain added to an invited or active tenant waits for DNS on its own; the tenant keeps
    its state.
    """
    now = now or timezone.now()
    own_domains = list(CallingDomain.objects.in_use().own().filter(tenant=tenant))
    if own_domains:
        link_emails.dns_instructions_send_new(tenant, own_domains, now)
    current = Tenant.objects.filter(pk=tenant.pk).values_list("status", flat=True).first()
    if not (own_domains and current in allowed_from(Operation.AWAIT_DNS)):
        return tenant
    with transaction.atomic():
        current = _locked_status(tenant, Operation.AWAIT_DNS)
        changes, _event = _move(tenant, current, S.DNS_PENDING, AuditAction.DNS_PENDING, actor, now)
    return _applied(tenant, changes)


# Transitions -----------------------------------------------------------------------------------


def tenant_enable(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> Tenant:
    """Enable onboarding: the tenant is invited to upload its token.

    Refused while any own domain is unverified, or when the tenant has no calling domain.
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked_status(tenant, Operation.ENABLE)
        _enable_precondition(tenant)
        changes, event = _move(
            tenant, current, S.INVITED, AuditAction.ENABLED, actor, now, updates={"invited_at": now}
        )
        _invite(tenant, event, now)
    return _applied(tenant, changes)


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
    under it, so its status is the current one: neither a savepoint nor a second read is needed
    (the upload, which bench/web.py measures, saves three statements this way).
    """
    now = now or timezone.now()
    if locked and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("locked=True needs the caller's transaction and row lock")
    with transaction.atomic(savepoint=not locked):
        if locked:
            current = _refuse_unless_allowed(tenant, Operation.ACTIVATE, tenant.status)
        else:
            current = _locked_status(tenant, Operation.ACTIVATE)
        changes, _event = _move(
            tenant, current, S.ACTIVE, AuditAction.TOKEN_STORED, actor, now, detail=detail
        )
    return _applied(tenant, changes)


def tenant_revoke_token(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> Tenant:
    """Back to invited; tokens.token_revoke also retires the token and sends a new link."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked_status(tenant, Operation.REVOKE_TOKEN)
        changes, _event = _move(
            tenant,
            current,
            S.INVITED,
            AuditAction.TOKEN_REVOKED,
            actor,
            now,
            updates={"invited_at": now},
        )
    return _applied(tenant, changes)


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
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked_status(tenant, Operation.SUSPEND)
        changes, _event = _move(
            tenant,
            current,
            S.SUSPENDED,
            AuditAction.SUSPENDED,
            actor,
            now,
            updates={"status_before_suspension": current},
        )
    return _applied(tenant, changes)


def tenant_resume(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> Tenant:
    """Back to the state it was suspended from. Reminders count the suspension as paused time,
    and a tenant whose DNS verified meanwhile is enabled if staff chose that."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked_status(tenant, Operation.RESUME)
        row = (
            Tenant.objects.filter(pk=tenant.pk)
            .values("status_before_suspension", "status_changed_at", "invited_at")
            .get()
        )
        earlier_state = row["status_before_suspension"] or S.INVITED
        changes, _event = _move(
            tenant,
            current,
            earlier_state,
            AuditAction.RESUMED,
            actor,
            now,
            updates=_reminders_paused(row, now),
        )
    resumed = _applied(tenant, changes)
    if resumed.status == S.DNS_PENDING:
        resumed = tenant_dns_verified(tenant=resumed, actor=actor, now=now)
    return resumed


def _reminders_paused(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Reminders count from the invitation: the suspension is moved out of that time."""
    changes: dict[str, Any] = {"status_before_suspension": ""}
    if row["invited_at"] and row["status_changed_at"]:
        changes["invited_at"] = row["invited_at"] + (now - row["status_changed_at"])
    return changes


def tenant_mark_offboarded(
    *, tenant: Tenant, actor: Actor, now: datetime | None = None
) -> AuditEvent:
    """The offboarding transition itself, inside the caller's transaction; what ends with it is
    offboarding.py's (tenant_offboard), which reads the tenant back when all of it is done."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("tenant_mark_offboarded needs the caller's transaction")
    now = now or timezone.now()
    current = _locked_status(tenant, Operation.OFFBOARD)
    _changes, event = _move(
        tenant,
        current,
        S.OFFBOARDED,
        AuditAction.OFFBOARDED,
        actor,
        now,
        updates={"offboarded_at": now, "status_before_suspension": ""},
    )
    return event


# The steps every transition takes ----------------------------------------------------------------


def _locked_status(tenant: Tenant, operation: Operation) -> str:
    """Lock the tenant's row and read its status: refused unless `operation` is allowed from it."""
    current = (
        Tenant.objects.select_for_update()
        .filter(pk=tenant.pk)
        .values_list("status", flat=True)
        .first()
    )
    if current is None:
        raise TransitionRefused("This tenant does not exist.")
    return _refuse_unless_allowed(tenant, operation, current)


def _refuse_unless_allowed(tenant: Tenant, operation: Operation, current: str) -> str:
    if not is_allowed(operation, current):
        raise TransitionRefused(_refusal(tenant, operation, current))
    return current


def _move(
    tenant: Tenant,
    current: str,
    target: str,
    action: AuditAction,
    actor: Actor,
    now: datetime,
    *,
    updates: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], AuditEvent]:
    """The conditional UPDATE from `current` to `target` and its audit event. When two workers
    race, one wins and the other is refused."""
    changes = {"status": target, "status_changed_at": now, **(updates or {})}
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
    return changes, event


def _applied(tenant: Tenant, changes: dict[str, Any]) -> Tenant:
    for name, value in changes.items():
        setattr(tenant, name, value)
    return tenant


# How a refusal reads: "Acme is invited, so it cannot be enabled; that is possible only from: ..."
_REFUSED_WORDS = {
    Operation.ENABLE: "enabled",
    Operation.SUSPEND: "suspended",
    Operation.RESUME: "resumed",
    Operation.AWAIT_DNS: "moved to DNS pending",
    Operation.OFFBOARD: "offboarded",
    Operation.ACTIVATE: "activated",
    Operation.REVOKE_TOKEN: "revoked",
}


def _refusal(tenant: Tenant, operation: Operation, current: str) -> str:
    current_label = TenantStatus(current).label.lower()
    allowed = ", ".join(sorted(TenantStatus(s).label.lower() for s in allowed_from(operation)))
    return (
        f"{tenant.name} is {current_label}, so it cannot be "
        f"{_REFUSED_WORDS.get(operation, operation)}; that is possible only from: {allowed}."
    )


def status_label(tenant: Tenant, own_domains: Sequence[CallingDomain] | None = None) -> str:
    """The status as staff read it, with 'DNS verified, awaiting enable' spelled out."""
    if tenant.status == S.DNS_PENDING:
        if own_domains is None:
            own_domains = list(tenant.calling_domains.all())
        if is_dns_verified_awaiting_enable(tenant.status, own_domains):
            return DNS_VERIFIED_AWAITING_ENABLE
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
