"""When the gateway must follow a change: one home for the list of triggers, and the request
that queues the tenant's provisioning job once the change is committed.

The job itself lives in `onboarding/gateways/provisioning.py`; it reads what the tenant should
have on its gateway now, so a request carries nothing but the tenant's id.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import current_app
from django.db import transaction
from django.utils import timezone

from onboarding.models import AuditAction, Tenant, TenantProvisioning, TenantStatus

logger = logging.getLogger(__name__)

PROVISION_TENANT_TASK = "onboarding.tasks.provision_tenant"

# The recorded changes the gateway must follow (architecture.md, "Gateway provisioning"):
# upload, replacement, settings change, gateway move, domain move, switch or retirement, own
# domain verified, suspend, resume, revoke, offboard, reinstatement. A change of the gateway's
# own mode or credentials requests every tenant on it (`gateway_tenants_request`).
GATEWAY_FOLLOWS = frozenset(
    {
        AuditAction.TOKEN_STORED,
        AuditAction.TOKEN_REPLACED,
        AuditAction.TOKEN_REVOKED,
        AuditAction.CHANGED,
        AuditAction.SETTINGS_CHANGED,
        AuditAction.GATEWAY_CHANGED,
        AuditAction.CALLING_DOMAIN_ADDED,
        AuditAction.CALLING_DOMAIN_REMOVED,
        AuditAction.CALLING_DOMAIN_MOVE_STARTED,
        AuditAction.CALLING_DOMAIN_SWITCHED,
        AuditAction.CALLING_DOMAIN_RETIRED,
        AuditAction.DNS_VERIFIED,
        AuditAction.SUSPENDED,
        AuditAction.RESUMED,
        AuditAction.OFFBOARDED,
        AuditAction.REINSTATED,
    }
)


# A tenant in these states has never had a token, so its gateway holds nothing to change.
NOTHING_ON_THE_GATEWAY = frozenset({TenantStatus.DRAFT, TenantStatus.DNS_PENDING})


def gateway_follows(action: str, tenant: Tenant) -> bool:
    return action in GATEWAY_FOLLOWS and tenant.status not in NOTHING_ON_THE_GATEWAY


def provisioning_request(tenant_id: int, *, now: datetime | None = None) -> None:
    """Ask for the tenant's provisioning job; it runs once the current transaction commits.

    The row's `next_attempt_at` is the durable half of the request: if the broker loses the
    message (or is down), the retry pass queues the job again.
    """
    now = now or timezone.now()
    row, created = TenantProvisioning.objects.get_or_create(
        tenant_id=tenant_id, defaults={"requested_at": now, "next_attempt_at": now}
    )
    if not created:
        TenantProvisioning.objects.filter(pk=row.pk).update(
            requested_at=now, next_attempt_at=now, attempts=0
        )
    transaction.on_commit(lambda: job_enqueue(tenant_id))


def gateway_tenants_request(gateway_id: int, *, now: datetime | None = None) -> int:
    """Every tenant the gateway serves, or whose objects it still holds, gets a job."""
    tenant_ids = set(Tenant.objects.filter(gateway_id=gateway_id).values_list("pk", flat=True))
    tenant_ids |= set(
        TenantProvisioning.objects.filter(node_gateway_id=gateway_id).values_list(
            "tenant_id", flat=True
        )
    )
    now = now or timezone.now()
    # in bulk: a gateway may serve thousands of tenants, and this runs in a staff request
    TenantProvisioning.objects.bulk_create(
        [
            TenantProvisioning(tenant_id=i, requested_at=now, next_attempt_at=now)
            for i in tenant_ids
        ],
        ignore_conflicts=True,
    )
    TenantProvisioning.objects.filter(tenant_id__in=tenant_ids).update(
        requested_at=now, next_attempt_at=now, attempts=0
    )
    ordered = sorted(tenant_ids)
    transaction.on_commit(lambda: [job_enqueue(tenant_id) for tenant_id in ordered])
    return len(tenant_ids)


def job_enqueue(tenant_id: int) -> bool:
    """A broker outage is logged, not raised: the retry pass queues the job again."""
    try:
        current_app.send_task(PROVISION_TENANT_TASK, args=[tenant_id])
    except Exception:  # any broker or network failure
        logger.warning(
            "could not queue the provisioning job of tenant %s; the retry pass will",
            tenant_id,
            exc_info=True,
        )
        return False
    return True
