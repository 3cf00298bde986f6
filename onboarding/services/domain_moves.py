"""Moving a live tenant to another calling domain: the new domain is added beside the old one,
the tenant keeps its state, the switch happens only once the new domain is ready (own domains:
DNS verified) and then the customer gets the new values; the old domain keeps working for the
gateway until staff retire it. A retired shared domain keeps its prefix on its row, so the
prefix is quarantined (prefixes.py)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from onboarding.models import AuditAction, CallingDomain, Tenant, TenantStatus
from onboarding.services import audit, lifecycle, tenant_creation
from onboarding.services.audit import Actor, TransitionRefused
from onboarding.services.changes import (
    ChangeResult,
    changes_record,
    settings_snapshot,
    snapshot_diff,
    tenant_lock,
)
from onboarding.services.lifecycle import Operation
from onboarding.services.tenant_creation import CallingDomainSpec

S = TenantStatus


def domain_move_start(
    *,
    tenant: Tenant,
    replaces: CallingDomain,
    spec: CallingDomainSpec,
    actor: Actor,
    now: datetime | None = None,
) -> CallingDomain:
    """Add the new calling domain beside the old one; the tenant keeps its state.

    An own domain's DNS is checked from now on (its DNS instructions go out); the customer gets
    the new Google Admin values only at the switch, once the new domain is ready.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = tenant_lock(tenant, Operation.MOVE_DOMAIN)
        old = locked.calling_domains.customer_facing().filter(pk=replaces.pk).first()
        if old is None:
            raise TransitionRefused(
                f"{replaces} is not a calling domain {locked.name} uses now, so nothing can "
                "move away from it."
            )
        if CallingDomain.objects.awaiting_switch().filter(replaces=old).exists():
            raise TransitionRefused(
                f"A move away from {old} is already under way: switch to it or retire it first."
            )
        new = spec.build(locked)
        new.replaces = old
        others = [d for d in locked.calling_domains.in_use() if d.pk != old.pk]
        tenant_creation.tenant_domains_validate(locked, [new, *others], now=now)
        tenant_creation.calling_domain_save(new, now=now)
        audit.audit_record(
            tenant=locked,
            action=AuditAction.CALLING_DOMAIN_MOVE_STARTED,
            actor=actor,
            now=now,
            detail={"from": str(old), "to": str(new), "option": new.option},
        )
        lifecycle.tenant_domains_changed(locked, actor=actor, now=now)
    return new


def domain_move_ready(calling_domain: CallingDomain) -> bool:
    """A move target is ready when it needs no DNS, or its DNS is verified and not flagged."""
    return calling_domain.is_dns_ready


def domain_switch(
    *, calling_domain: CallingDomain, actor: Actor, now: datetime | None = None
) -> ChangeResult:
    """Switch the tenant to its new calling domain; the customer gets the new values.

    Refused until the new domain is ready. The old domain keeps working until staff retire it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = tenant_lock(calling_domain.tenant, Operation.SWITCH_DOMAIN)
        new = CallingDomain.objects.get(pk=calling_domain.pk)
        if not new.is_awaiting_switch or new.retired_at is not None:
            raise TransitionRefused(f"{new} is not waiting for a switch.")
        if not domain_move_ready(new):
            raise TransitionRefused(
                f"{new} is not ready yet: its DNS records are not verified. The switch can be "
                "made once the DNS check passes."
            )
        before = settings_snapshot(locked)
        CallingDomain.objects.filter(pk=new.pk).update(switched_at=now)
        result = ChangeResult(snapshot_diff(before, settings_snapshot(locked)))
        changes_record(
            locked, result.changes, actor=actor, now=now, action=AuditAction.CALLING_DOMAIN_SWITCHED
        )
    calling_domain.refresh_from_db()
    return result


def calling_domain_retire(
    *, calling_domain: CallingDomain, actor: Actor, now: datetime | None = None
) -> CallingDomain:
    """Retire the old side of a finished move (or an abandoned move target).

    Its DNS checks stop and its name is free for others; a shared-domain prefix stays with the
    retired row, so it is quarantined (prefixes.py) and never reaches a new tenant meanwhile.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = tenant_lock(calling_domain.tenant, Operation.RETIRE_DOMAIN)
        domain = CallingDomain.objects.get(pk=calling_domain.pk)
        replaced = domain.is_replaced_by_a_switch
        if domain.retired_at is not None:
            raise TransitionRefused(f"{domain} is retired already.")
        if not replaced and not domain.is_awaiting_switch:
            raise TransitionRefused(
                f"{domain} is a calling domain the customer uses now. Move the tenant to another "
                "calling domain and switch first; then retire this one."
            )
        CallingDomain.objects.filter(pk=domain.pk).update(retired_at=now, next_check_at=None)
        audit.audit_record(
            tenant=locked,
            action=AuditAction.CALLING_DOMAIN_RETIRED,
            actor=actor,
            now=now,
            detail={"domain": str(domain), "prefix": domain.prefix},
        )
    calling_domain.refresh_from_db()
    return calling_domain
