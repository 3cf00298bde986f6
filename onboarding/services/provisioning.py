"""What a tenant's gateway should hold, whatever the gateway's provisioning mode, and the staff
press for manual gateways ("Configured on the gateway").

The Infinity objects are the reference for every mode: a manual gateway is configured by hand
to the same shape, and staff see exactly that shape when something changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from onboarding.domain import infinity_rules
from onboarding.domain.infinity_rules import DesiredState, DialDomain
from onboarding.models import (
    AuditAction,
    CallingDomain,
    ProvisioningMode,
    ProvisioningState,
    SecurityToken,
    Tenant,
    TenantProvisioning,
    TenantStatus,
    TokenState,
)
from onboarding.services import tokens
from onboarding.services.audit import Actor, TransitionRefused, audit_record

# A tenant in these states has a token the gateway should hold; suspended ones with rules off.
SERVED_STATUSES = frozenset({TenantStatus.ACTIVE, TenantStatus.SUSPENDED})


def dial_domains(domains: Iterable[CallingDomain]) -> list[DialDomain]:
    return [
        DialDomain(
            id=domain.pk,
            domain=domain.domain,
            option=domain.option,
            meeting_id_length=domain.meeting_id_length,
            prefix=domain.prefix,
            verified=domain.verified_at is not None,
        )
        for domain in domains
    ]


def desired_state_for(
    tenant: Tenant,
    token: SecurityToken | None,
    domains: Iterable[CallingDomain] | None = None,
) -> DesiredState:
    """What the tenant's gateway should hold now. `domains`: its customer-facing calling
    domains, when the caller has read them already (the sweep reads them for many tenants)."""
    if domains is None:
        domains = CallingDomain.objects.customer_facing().filter(tenant=tenant)
    return infinity_rules.desired_state(
        tenant.pk,
        dial_domains(domains),
        serve=token is not None and tenant.status in SERVED_STATUSES,
        enable=tenant.status == TenantStatus.ACTIVE,
        priority=tenant.gateway.routing_rule_priority,
    )


def desired_digest(desired: DesiredState, token: SecurityToken | None) -> str:
    """Changes whenever the gateway must change: an object, a field, or the token's value."""
    shape = {
        "token": asdict(desired.token) if desired.token else None,
        "token_row": token.pk if token is not None and desired.token else None,
        "rules": [asdict(rule) for rule in desired.rules],
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


def current_token(tenant_id: int) -> SecurityToken | None:
    return SecurityToken.objects.filter(tenant_id=tenant_id, state=TokenState.CURRENT).first()


# Manual gateways ----------------------------------------------------------------------------------


def manual_instructions(
    tenant: Tenant, desired: DesiredState, token: SecurityToken | None
) -> list[str]:
    """What staff must set on the gateway by hand, in the shape the portal would use itself."""
    if desired.token is None:
        return [
            f"Remove the routing rules tagged {infinity_rules.tenant_rule_tag_prefix(tenant.pk)}…"
            f" first, then the Google Meet access token {infinity_rules.token_name(tenant.pk)}: "
            f"{tenant.name} no longer has a token the gateway should use."
        ]
    lines = [
        f"Google Meet access token {desired.token.name}: the customer's token uploaded "
        f"{token.uploaded_at:%Y-%m-%d %H:%M} UTC, fingerprint {token.fingerprint}."
        if token is not None
        else f"Google Meet access token {desired.token.name}."
    ]
    for rule in desired.rules:
        state = "enabled" if rule.enable else "DISABLED (the tenant is suspended)"
        lines.append(
            f"Routing rule {rule.tag} for {rule.domain}, {state}, priority {rule.priority}: "
            f"match {rule.match_string}, replace {rule.replace_string}, call Google Meet "
            f"with token {desired.token.name}, treated as trusted."
        )
    if not desired.rules:
        lines.append("No routing rules yet: no calling domain can be dialled (DNS pending).")
    return lines


def manual_changes(tenant: Tenant, desired: DesiredState, token: SecurityToken | None) -> str:
    """What staff must change by hand since they last confirmed the gateway, then the whole
    shape the gateway should hold."""
    wanted = manual_instructions(tenant, desired, token)
    last = (
        tenant.audit_events.filter(action=AuditAction.GATEWAY_CONFIGURED_BY_STAFF)
        .order_by("-created_at", "-id")
        .values_list("detail", flat=True)
        .first()
    )
    before = list((last or {}).get("configured", []))
    lines = ["Change the gateway by hand, then press “Configured on the gateway”."]
    if last is not None:
        lines += ["Since it was last configured:"]
        lines += [f"  add or change: {line}" for line in wanted if line not in before]
        lines += [f"  remove: {line}" for line in before if line not in wanted]
    lines += ["The gateway should hold:", *(f"  {line}" for line in wanted)]
    return "\n".join(lines)


def manual_configured_confirm(
    *, tenant: Tenant, actor: Actor, now: datetime | None = None
) -> TenantProvisioning:
    """Staff say the gateway now holds what `manual_instructions` listed. Audited; the gateway
    then has the current token, which may send the email the customer is waiting for."""
    now = now or timezone.now()
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().select_related("gateway").get(pk=tenant.pk)
        if tenant.gateway.provisioning != ProvisioningMode.MANUAL:
            how = (
                "by the portal"
                if tenant.gateway.provisioning == ProvisioningMode.INFINITY
                else "through its feed"
            )
            raise TransitionRefused(
                f"{tenant.gateway.name} is provisioned {how}; there is nothing to confirm by hand."
            )
        token = current_token(tenant.pk)
        desired = desired_state_for(tenant, token)
        row, _ = TenantProvisioning.objects.select_for_update().get_or_create(tenant=tenant)
        row.state = ProvisioningState.IN_SYNC
        row.detail = ""
        row.desired_digest = desired_digest(desired, token)
        row.synced_at = now
        row.next_attempt_at = None
        row.attempts = 0
        row.save()
        audit_record(
            tenant=tenant,
            action=AuditAction.GATEWAY_CONFIGURED_BY_STAFF,
            actor=actor,
            now=now,
            detail={"configured": manual_instructions(tenant, desired, token)},
        )
        if token is not None and desired.token is not None:
            tokens.gateway_has_token_mark(
                token, actor=actor, now=now, how="staff confirmed", locked_tenant=tenant
            )
    return row
