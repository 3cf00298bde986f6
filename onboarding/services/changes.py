"""Changing a live tenant: its settings and its gateway's values (moves: domain_moves.py).

Every change is validated by the model rules (`domain/calling_domains.py` through `full_clean`),
recorded in the audit trail with old and new values, and, when the customer must change
something in Google Admin (or in their DNS), tells the token-upload contacts exactly what,
old -> new. The token is never touched. Rows are locked calling domains first, then the
tenant: the order the DNS writer uses, so the two cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from onboarding.domain import calling_domains, domain_names
from onboarding.domain.calling_domains import AccessScope, MeetingIdLength, RuleWarning
from onboarding.mail import composers
from onboarding.models import AuditAction, CallingDomain, Gateway, Tenant, TenantStatus
from onboarding.services import audit, gateway_settings, lifecycle
from onboarding.services.audit import Actor, TransitionRefused
from onboarding.services.lifecycle import Operation

S = TenantStatus

# How a refused live change reads: "Acme is draft, so it cannot <doing>; ..."
_DOING = {
    Operation.CHANGE_SETTINGS: "have its settings changed",
    Operation.MOVE_DOMAIN: "move to another calling domain",
    Operation.SWITCH_DOMAIN: "switch calling domains",
    Operation.RETIRE_DOMAIN: "retire a calling domain",
}

# What staff may change on a live tenant through `tenant_settings_change`.
TENANT_FIELDS = frozenset(
    {
        "gateway",
        "access_scope",
        "access_scope_units",
        "token_upload_contacts",
        "service_notification_contacts",
        "main_contact_email",
        "name",
        "teams_interop_domains",
        "enable_when_dns_verified",
    }
)


@dataclass(frozen=True)
class DomainSettings:
    """A requested change of one calling domain; None keeps the current value."""

    meeting_id_length: str | None = None
    prefix: str | None = None
    sfb_additional_gateway: bool | None = None


@dataclass(frozen=True)
class ValueChange:
    what: str
    where: str  # the calling domain it belongs to, or "" for the whole tenant
    old: str
    new: str
    customer_must_change: bool  # in Google Admin or in their DNS

    def as_detail(self) -> dict[str, str]:
        return {"what": self.what, "where": self.where, "old": self.old, "new": self.new}


@dataclass
class ChangeResult:
    changes: list[ValueChange] = field(default_factory=list)
    warnings: list[RuleWarning] = field(default_factory=list)

    @property
    def customer_changes(self) -> list[ValueChange]:
        return [c for c in self.changes if c.customer_must_change]


# What the customer has, as a flat comparable snapshot --------------------------------------------

NOT_USED = "(not used)"
Snapshot = dict[tuple[str, str], tuple[str, bool]]


def settings_snapshot(tenant: Tenant) -> Snapshot:
    """Every value of this tenant that staff can change, keyed by (what, where)."""
    tenant = Tenant.objects.select_related("gateway").get(pk=tenant.pk)
    gateway = tenant.gateway
    domains = list(tenant.calling_domains.customer_facing().order_by("created_at", "id"))
    values: Snapshot = {
        ("Calling domains", ""): (", ".join(_domain_label(d) for d in domains), True),
        ("Gateway", ""): (gateway.name, False),
        ("Gateway IP address", ""): (gateway.ip_address, True),
        ("Gateway hostname", ""): (gateway.hostname, True),
        ("Access", ""): (_access_text(tenant), True),
        ("Token-upload contacts", ""): (", ".join(tenant.token_upload_recipients), False),
        ("Service-notification contacts", ""): (
            ", ".join(tenant.service_notification_recipients),
            False,
        ),
        ("Main contact", ""): (tenant.main_contact_email, False),
        ("Name", ""): (tenant.name, False),
    }
    for domain in domains:
        where = domain_names.display_domain(domain.domain)
        short = domain.meeting_id_length == MeetingIdLength.SHORT
        values[("Meeting ID length", where)] = ("Short" if short else "Long", True)
        values[("Meeting ID prefix", where)] = (
            domain.prefix if short and domain.prefix else "none",
            True,
        )
        values[("Additional gateway for Skype for Business users", where)] = (
            f"ticked, hostname {calling_domains.SFB_GATEWAY_HOSTNAME}"
            if domain.sfb_additional_gateway
            else "not ticked",
            True,
        )
        if domain.needs_dns:
            values[("SRV records point at", where)] = (gateway.effective_sip_host, True)
    return values


def _domain_label(domain: CallingDomain) -> str:
    name = domain_names.display_domain(domain.domain)
    return f"{name} (prefix {domain.prefix})" if domain.prefix else name


def _access_text(tenant: Tenant) -> str:
    if tenant.access_scope == AccessScope.SELECTED:
        return "only " + ", ".join(tenant.access_scope_units)
    return "whole organisation"


def snapshot_diff(before: Snapshot, after: Snapshot) -> list[ValueChange]:
    changes = []
    for key in list(dict.fromkeys([*before, *after])):
        old, old_customer = before.get(key, (NOT_USED, False))
        new, new_customer = after.get(key, (NOT_USED, False))
        if old != new:
            what, where = key
            changes.append(ValueChange(what, where, old, new, old_customer or new_customer))
    return changes


# Changing a live tenant's settings -------------------------------------------------------------


def tenant_settings_change(
    *,
    tenant: Tenant,
    actor: Actor,
    fields: Mapping[str, Any] | None = None,
    domains: Mapping[int, DomainSettings] | None = None,
    now: datetime | None = None,
) -> ChangeResult:
    """Change an invited or active tenant's settings and its calling domains' settings.

    Moving a calling domain to long IDs clears its prefix; the shared domain cannot move to long
    IDs (move the tenant to another calling domain first). Nothing changes unless all is valid.
    """
    now = now or timezone.now()
    unknown = set(fields or {}) - TENANT_FIELDS
    if unknown:
        raise ValueError(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = tenant_lock(tenant, Operation.CHANGE_SETTINGS)
        before = settings_snapshot(locked)
        for name, value in (fields or {}).items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
        warnings: list[RuleWarning] = []
        for pk, requested in (domains or {}).items():
            warnings.extend(_domain_change(locked, pk, requested))
        result = ChangeResult(snapshot_diff(before, settings_snapshot(locked)), warnings)
        if result.changes:
            changes_record(locked, result.changes, actor=actor, now=now)
            if _dns_target_changed(result.changes):
                dns_recheck_schedule([locked.pk], now=now)
    tenant.refresh_from_db()
    return result


def tenant_lock(tenant: Tenant, operation: Operation) -> Tenant:
    """Lock the tenant's calling domains, then the tenant, for a change of a live tenant:
    refused unless the transition table allows `operation` from its state."""
    list(CallingDomain.objects.select_for_update().filter(tenant=tenant).order_by("pk"))
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if not lifecycle.is_allowed(operation, locked.status):
        states = ", ".join(sorted(S(s).label.lower() for s in lifecycle.allowed_from(operation)))
        raise TransitionRefused(
            f"{locked.name} is {locked.get_status_display().lower()}, so it cannot "
            f"{_DOING[operation]}; that is possible only when it is {states}."
        )
    return locked


def _domain_change(tenant: Tenant, pk: int, requested: DomainSettings) -> list[RuleWarning]:
    calling_domain = tenant.calling_domains.customer_facing().filter(pk=pk).first()
    if calling_domain is None:
        raise ValidationError("That calling domain is not one this tenant uses now.")
    length = requested.meeting_id_length or calling_domain.meeting_id_length
    calling_domains.check_shared_stays_short(option=calling_domain.option, meeting_id_length=length)
    if requested.prefix is not None:
        calling_domain.prefix = requested.prefix
    calling_domain.prefix = calling_domains.prefix_after_length_change(
        option=calling_domain.option,
        previous_length=calling_domain.meeting_id_length,
        new_length=length,
        prefix=calling_domain.prefix,
    )
    calling_domain.meeting_id_length = length
    if requested.sfb_additional_gateway is not None:
        calling_domain.sfb_additional_gateway = requested.sfb_additional_gateway
    calling_domain.full_clean(exclude=["tenant"])
    calling_domain.save()
    return list(calling_domain.rule_warnings)


def _dns_target_changed(changes: Iterable[ValueChange]) -> bool:
    return any(c.what == "SRV records point at" for c in changes)


def changes_record(
    tenant: Tenant,
    changes: list[ValueChange],
    *,
    actor: Actor,
    now: datetime,
    action: AuditAction | None = None,
) -> None:
    """The audit event with old and new values, and the email when the customer must act."""
    event = audit.audit_record(
        tenant=tenant,
        action=action or AuditAction.SETTINGS_CHANGED,
        actor=actor,
        now=now,
        detail={"changes": [c.as_detail() for c in changes]},
    )
    customer_changes = [c for c in changes if c.customer_must_change]
    if customer_changes:
        composers.settings_changed_queue(
            tenant, customer_changes, f"settings_changed:{tenant.pk}:{event.pk}", now
        )


def dns_recheck_schedule(tenant_ids: Iterable[int], *, now: datetime) -> int:
    """Own domains of these tenants are checked on the DNS sweeper's next round."""
    return (
        CallingDomain.objects.in_use()
        .own()
        .filter(tenant_id__in=list(tenant_ids))
        .exclude(tenant__status=S.OFFBOARDED)
        .update(next_check_at=now)
    )


# Gateways ------------------------------------------------------------------------------------

GATEWAY_FIELDS = frozenset({"name", "ip_address", "hostname", "sip_host"})


def gateway_change(
    *, gateway: Gateway, actor: Actor, fields: Mapping[str, Any], now: datetime | None = None
) -> dict[int, list[ValueChange]]:
    """Edit a gateway; every tenant it serves is told what to change, and their own domains'
    DNS is re-checked. Returns the changes per tenant id."""
    now = now or timezone.now()
    unknown = set(fields) - GATEWAY_FIELDS - gateway_settings.PROVISIONING_FIELDS
    if unknown:
        raise ValueError(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = Gateway.objects.select_for_update().get(pk=gateway.pk)
        served_ids = list(
            Tenant.objects.filter(
                gateway=locked, status__in=lifecycle.allowed_from(Operation.HEAR_OF_GATEWAY_CHANGE)
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        list(
            CallingDomain.objects.select_for_update()
            .filter(tenant_id__in=served_ids)
            .order_by("pk")
        )
        served = list(Tenant.objects.select_for_update().filter(pk__in=served_ids).order_by("pk"))
        befores = {t.pk: settings_snapshot(t) for t in served}
        old = {name: getattr(locked, name) for name in GATEWAY_FIELDS}
        for name, value in fields.items():
            if name in GATEWAY_FIELDS:
                setattr(locked, name, value)
        provisioning_changed = gateway_settings.provisioning_fields_apply(
            locked,
            {k: v for k, v in fields.items() if k in gateway_settings.PROVISIONING_FIELDS},
            actor=actor,
            now=now,
        )
        locked.full_clean()
        locked.save()
        if provisioning_changed:
            gateway_settings.provisioning_change_record(
                locked, provisioning_changed, actor=actor, now=now
            )
        new = {name: getattr(locked, name) for name in GATEWAY_FIELDS}
        audit.audit_record(
            tenant=None,
            action=AuditAction.GATEWAY_CHANGED,
            actor=actor,
            now=now,
            detail={
                "gateway": locked.name,
                "changes": [
                    {"what": name, "old": old[name], "new": new[name]}
                    for name in sorted(GATEWAY_FIELDS)
                    if old[name] != new[name]
                ],
            },
        )
        told: dict[int, list[ValueChange]] = {}
        for tenant in served:
            changes = snapshot_diff(befores[tenant.pk], settings_snapshot(tenant))
            if changes:
                changes_record(
                    tenant, changes, actor=actor, now=now, action=AuditAction.GATEWAY_CHANGED
                )
                told[tenant.pk] = changes
        address_changed = any(old[n] != new[n] for n in ("ip_address", "hostname", "sip_host"))
        if address_changed:
            all_served = Tenant.objects.filter(gateway=locked).values_list("pk", flat=True)
            dns_recheck_schedule(all_served, now=now)
    gateway.refresh_from_db()
    return told


def sample_changes(tenant: Tenant) -> list[ValueChange]:
    """An example for the email preview: the gateway moved to another address."""
    return [
        ValueChange("Gateway IP address", "", "192.0.2.99", tenant.gateway.ip_address, True),
        ValueChange(
            "Gateway hostname", "", "old-gateway.example.com", tenant.gateway.hostname, True
        ),
    ]
