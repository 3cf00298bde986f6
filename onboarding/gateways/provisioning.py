"""The provisioning job of one tenant: make its gateway hold what it should, whatever the
gateway's mode, and record the outcome staff and customers see.

One job per tenant at a time: a lease on the tenant's provisioning row. A job that finds the
lease held asks the holder to run again, so two triggers racing end in one converged set of
objects, never two. Failures (architecture.md, "Gateway provisioning"):
- timeouts, 429, 5xx, dropped connections: retried with backoff (`PROVISIONING_RETRY_SECONDS`)
  by the retry pass;
- 401/403 and an unverifiable certificate stop the gateway until its credentials change or
  staff press "Provision now", and tell staff once;
- 400 (the node's "licence full" included) fails the tenant with the node's message; it is not
  retried until something changes (a new request, or a different desired state).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from onboarding.domain.infinity_rules import DesiredState, InfinityRuleError
from onboarding.gateways import infinity_sync, nodes
from onboarding.gateways.infinity_client import (
    ConfigurationError,
    InfinityError,
    Rejected,
    TlsFailure,
    Unauthorized,
)
from onboarding.gateways.infinity_sync import NodeObjects
from onboarding.infra import encryption
from onboarding.models import (
    AuditAction,
    Gateway,
    ProvisioningMode,
    ProvisioningState,
    SecurityToken,
    Tenant,
    TenantProvisioning,
)
from onboarding.services import provisioning, tokens
from onboarding.services.audit import Actor, audit_record

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("gateway provisioning")
AWAITING_FEED = "Waiting for the gateway to fetch the provisioning feed."


@dataclass(frozen=True)
class Outcome:
    state: str
    detail: str = ""


def tenant_provision(
    tenant_id: int,
    *,
    now: datetime | None = None,
    snapshot: NodeObjects | None = None,
) -> Outcome | None:
    """Run the tenant's job; None when another job holds the tenant (it will run again).

    `snapshot`: the tenant's objects on its node as the sweep just listed them, saving a read.
    """
    now = now or timezone.now()
    if not _claim(tenant_id, now):
        return None
    try:
        while True:
            outcome = _provision_once(tenant_id, now, snapshot)
            snapshot = None  # a second round reads afresh: something changed meanwhile
            if _release(tenant_id):
                return outcome
            now = timezone.now()
    except BaseException:
        TenantProvisioning.objects.filter(tenant_id=tenant_id).update(lease_until=None)
        raise


def _claim(tenant_id: int, now: datetime) -> bool:
    TenantProvisioning.objects.get_or_create(tenant_id=tenant_id)
    lease = now + timedelta(seconds=settings.PROVISIONING_LEASE_SECONDS)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    for _ in range(3):
        rows = TenantProvisioning.objects.filter(tenant_id=tenant_id)
        if rows.filter(free).update(lease_until=lease, rerun_requested=False):
            return True
        # held: ask the holder to run again, unless it let go in between (then try again)
        if rows.filter(lease_until__gte=now).update(rerun_requested=True):
            return False
    return False


def _release(tenant_id: int) -> bool:
    """False when another request came in while this job ran: then run again."""
    released = TenantProvisioning.objects.filter(tenant_id=tenant_id, rerun_requested=False).update(
        lease_until=None
    )
    if released:
        return True
    TenantProvisioning.objects.filter(tenant_id=tenant_id).update(rerun_requested=False)
    return False


def _provision_once(tenant_id: int, now: datetime, snapshot: NodeObjects | None) -> Outcome:
    tenant = Tenant.objects.select_related("gateway").get(pk=tenant_id)
    row = TenantProvisioning.objects.select_related("node_gateway").get(tenant_id=tenant_id)
    token = provisioning.current_token(tenant_id)
    try:
        desired = provisioning.desired_state_for(tenant, token)
    except InfinityRuleError as exc:
        return _failed(row, tenant, str(exc), digest="", now=now)
    digest = provisioning.desired_digest(desired, token)

    if row.node_gateway_id and row.node_gateway_id != tenant.gateway_id:
        left = _leave_node(row, tenant, now)
        if left is not None:
            return left
    gateway = tenant.gateway
    if gateway.provisioning == ProvisioningMode.FEED:
        has_it = token is None or desired.token is None or tokens.gateway_has_token(token)
        state = ProvisioningState.IN_SYNC if has_it else ProvisioningState.PENDING
        return _settle(row, state, "" if has_it else AWAITING_FEED, digest=row.desired_digest)
    if gateway.provisioning == ProvisioningMode.MANUAL:
        return _manual(row, tenant, desired, token, digest)
    return _infinity(row, tenant, gateway, desired, token, digest, now, snapshot)


def _manual(
    row: TenantProvisioning,
    tenant: Tenant,
    desired: DesiredState,
    token: SecurityToken | None,
    digest: str,
) -> Outcome:
    nothing_ever_configured = desired.token is None and not row.desired_digest
    if digest == row.desired_digest or nothing_ever_configured:
        return _settle(row, ProvisioningState.IN_SYNC, "", digest=row.desired_digest)
    detail = provisioning.manual_changes(tenant, desired, token)
    return _settle(row, ProvisioningState.AWAITING_STAFF, detail, digest=row.desired_digest)


def _infinity(
    row: TenantProvisioning,
    tenant: Tenant,
    gateway: Gateway,
    desired: DesiredState,
    token: SecurityToken | None,
    digest: str,
    now: datetime,
    snapshot: NodeObjects | None,
) -> Outcome:
    if gateway.provisioning_stopped:
        return _settle(
            row,
            ProvisioningState.FAILED,
            f"The gateway is stopped: {gateway.provisioning_stop_reason}",
            digest=row.desired_digest,
        )
    # the node was left exactly as wanted: whatever differs now was changed on the node
    was_in_sync = (
        row.state == ProvisioningState.IN_SYNC
        and row.desired_digest == digest
        and row.node_gateway_id == gateway.pk
    )
    value_outdated = token is not None and (
        row.node_token_id != token.pk or row.node_gateway_id != gateway.pk
    )
    try:
        with nodes.node_session(gateway) as client:
            node = snapshot or infinity_sync.node_objects_read(client, tenant.pk)
            done = infinity_sync.converge(
                client,
                desired,
                node,
                token_value=lambda: _token_value(token),
                value_outdated=value_outdated,
            )
            infinity_sync.read_back(client, tenant.pk, desired)
    except (Unauthorized, TlsFailure, ConfigurationError) as exc:
        reason = nodes.in_plain_words(exc)
        nodes.gateway_stop(gateway, reason, now=now)
        return _settle(
            row, ProvisioningState.FAILED, f"The gateway is stopped: {reason}", digest=digest
        )
    except Rejected as exc:
        return _failed(row, tenant, nodes.in_plain_words(exc), digest=digest, now=now)
    except InfinityError as exc:  # Transient, ProtocolError, ReadBackMismatch
        return _retry_later(row, nodes.in_plain_words(exc), now)

    holds_something = desired.token is not None
    row.node_gateway = gateway if holds_something else None
    row.node_token = token if holds_something else None
    row.synced_at = now
    # what the node holds, the fact "ready" waits for and its email: together or not at all
    with transaction.atomic():
        locked = tokens.tenant_for_update(tenant.pk)
        if done.changed:
            _changes_record(row, tenant, gateway, done.changes, was_in_sync, holds_something, now)
        outcome = _settle(row, ProvisioningState.IN_SYNC, "", digest=digest)
        if token is not None and holds_something:
            tokens.gateway_has_token_mark(
                token,
                actor=SYSTEM,
                now=now,
                how=f"read back from {gateway.name}",
                locked_tenant=locked,
            )
    return outcome


def _changes_record(
    row: TenantProvisioning,
    tenant: Tenant,
    gateway: Gateway,
    changes: list[str],
    was_in_sync: bool,
    holds_something: bool,
    now: datetime,
) -> None:
    if was_in_sync:
        action = AuditAction.GATEWAY_DRIFT_REPAIRED
        row.drift_repaired_at = now
    elif holds_something:
        action = AuditAction.GATEWAY_UPDATED
    else:
        action = AuditAction.GATEWAY_OBJECTS_REMOVED
    audit_record(
        tenant=tenant,
        action=action,
        actor=SYSTEM,
        now=now,
        detail={"gateway": gateway.name, "changes": changes},
    )


def _leave_node(row: TenantProvisioning, tenant: Tenant, now: datetime) -> Outcome | None:
    """The tenant moved to another gateway: its objects leave the node it was on."""
    old = row.node_gateway
    if old is None or old.provisioning != ProvisioningMode.INFINITY or old.provisioning_stopped:
        row.node_gateway = None
        row.node_token = None
        row.save(update_fields=["node_gateway", "node_token"])
        return None
    empty = DesiredState(token=None, rules=())
    try:
        with nodes.node_session(old) as client:
            node = infinity_sync.node_objects_read(client, tenant.pk)
            done = infinity_sync.converge(
                client, empty, node, token_value=lambda: "", value_outdated=False
            )
    except InfinityError as exc:
        return _retry_later(row, f"Removing it from {old.name}: {nodes.in_plain_words(exc)}", now)
    if done.changed:
        audit_record(
            tenant=tenant,
            action=AuditAction.GATEWAY_OBJECTS_REMOVED,
            actor=SYSTEM,
            now=now,
            detail={"gateway": old.name, "changes": done.changes},
        )
    row.node_gateway = None
    row.node_token = None
    row.save(update_fields=["node_gateway", "node_token"])
    return None


def _token_value(token: SecurityToken | None) -> str:
    if token is None or not token.ciphertext:
        raise InfinityRuleError("The tenant has no stored token to send.")
    return encryption.decrypt(token.ciphertext)


def _settle(row: TenantProvisioning, state: str, detail: str, *, digest: str) -> Outcome:
    row.state = state
    row.detail = detail
    row.desired_digest = digest
    row.attempts = 0
    row.next_attempt_at = None
    row.save(
        update_fields=[
            "state",
            "detail",
            "desired_digest",
            "attempts",
            "next_attempt_at",
            "synced_at",
            "drift_repaired_at",
            "node_gateway",
            "node_token",
        ]
    )
    return Outcome(state, detail)


def _retry_later(row: TenantProvisioning, problem: str, now: datetime) -> Outcome:
    schedule = settings.PROVISIONING_RETRY_SECONDS
    wait = schedule[min(row.attempts, len(schedule) - 1)]
    row.attempts += 1
    row.next_attempt_at = now + timedelta(seconds=wait)
    row.state = ProvisioningState.PENDING
    row.detail = f"{problem} Trying again at {row.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC."
    row.save(update_fields=["attempts", "next_attempt_at", "state", "detail"])
    logger.warning("provisioning tenant %s failed, retrying: %s", row.tenant_id, problem)
    return Outcome(row.state, row.detail)


def _failed(
    row: TenantProvisioning, tenant: Tenant, problem: str, *, digest: str, now: datetime
) -> Outcome:
    """Not retried until something changes; staff are told once per desired state."""
    first_time = not (row.state == ProvisioningState.FAILED and row.desired_digest == digest)
    outcome = _settle(row, ProvisioningState.FAILED, problem, digest=digest)
    if first_time:
        with transaction.atomic():
            audit_record(
                tenant=tenant,
                action=AuditAction.GATEWAY_PROVISIONING_FAILED,
                actor=SYSTEM,
                now=now,
                detail={"gateway": tenant.gateway.name, "problem": problem},
            )
            nodes.staff_alert(
                tenant.gateway,
                tenant,
                problem,
                key=f"gateway_failed:{tenant.pk}:{digest[:16]}:{now:%Y%m%dT%H%M%S%f}",
                what_to_do="The portal does not try again until something changes: fix the "
                'cause on the node or the tenant, then press "Provision now" on the tenant.',
            )
    return outcome
