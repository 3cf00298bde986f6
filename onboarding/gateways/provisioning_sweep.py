"""The periodic passes over provisioning: the retry pass (jobs whose backoff is over, and jobs
whose message the broker lost) and the drift sweep (every tenant on every Infinity gateway,
checked against the node's lists, read page by page)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from onboarding.domain import infinity_rules
from onboarding.domain.infinity_rules import InfinityRuleError
from onboarding.gateways import nodes, provisioning
from onboarding.gateways.infinity_client import InfinityError, Resource, TlsFailure, Unauthorized
from onboarding.gateways.node_index import NodeIndex
from onboarding.models import (
    CallingDomain,
    Gateway,
    ProvisioningMode,
    ProvisioningState,
    SecurityToken,
    Tenant,
    TenantProvisioning,
    TokenState,
)
from onboarding.services import provisioning as desired_states
from onboarding.services.provisioning_requests import job_enqueue

logger = logging.getLogger(__name__)


# A request's job is queued at once; only one still not run after this is queued again (the
# broker lost it), so a backlog the workers are still working through is not queued twice.
REQUEUE_AFTER = timedelta(minutes=2)


def provisioning_retry_pass(*, now: datetime | None = None) -> int:
    """Queue the job of every tenant that is due: a backoff that ended, or a request whose
    message never reached a worker. Stopped gateways wait for staff."""
    now = now or timezone.now()
    due = (
        TenantProvisioning.objects.filter(
            Q(attempts__gt=0, next_attempt_at__lte=now)
            | Q(attempts=0, next_attempt_at__lte=now - REQUEUE_AFTER)
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .exclude(
            tenant__gateway__provisioning=ProvisioningMode.INFINITY,
            tenant__gateway__provisioning_stopped_at__isnull=False,
        )
        .values_list("tenant_id", flat=True)
    )
    queued = 0
    for tenant_id in due:
        queued += job_enqueue(tenant_id)
    return queued


@dataclass
class SweepResult:
    gateways: int = 0
    tenants_checked: int = 0
    repaired: int = 0
    unreachable: int = 0


def gateways_sweep(*, now: datetime | None = None) -> SweepResult:
    result = SweepResult()
    for gateway in Gateway.objects.filter(
        provisioning=ProvisioningMode.INFINITY, provisioning_stopped_at__isnull=True
    ):
        result.gateways += 1
        try:
            gateway_sweep(gateway, now=now, result=result)
        except InfinityError as exc:
            result.unreachable += 1
            logger.warning("sweep of gateway %s failed: %s", gateway.pk, exc)
            if isinstance(exc, Unauthorized | TlsFailure):
                nodes.gateway_stop(gateway, nodes.in_plain_words(exc), now=now)
    return result


# Tenants compared per round trip to the database: their rows are dropped after each chunk.
CHUNK = 500


def gateway_sweep(
    gateway: Gateway, *, now: datetime | None = None, result: SweepResult | None = None
) -> SweepResult:
    """Read the node's lists once, page by page, into a compact index; run the job only for
    tenants whose objects differ from what they should hold (drift), and for tenants that
    moved away and left objects behind."""
    now = now or timezone.now()
    result = result or SweepResult()
    prefix = infinity_rules.DEFAULT_OBJECT_PREFIX + "-"
    with nodes.node_session(gateway) as client:
        index = NodeIndex.build(
            client.list_objects(Resource.GMS_ACCESS_TOKEN, name__startswith=prefix),
            client.list_objects(Resource.GATEWAY_ROUTING_RULE, tag__startswith=prefix),
        )
    on_node = index.tenant_ids()
    tenant_ids = list(
        Tenant.objects.filter(gateway=gateway).order_by("pk").values_list("pk", flat=True)
    )
    for start in range(0, len(tenant_ids), CHUNK):
        for facts in _tenants_with_their_facts(tenant_ids[start : start + CHUNK], gateway):
            result.tenants_checked += 1
            on_node.discard(facts.tenant.pk)
            if facts.row is not None and facts.row.state == ProvisioningState.FAILED:
                continue  # not retried until something changes
            if _needs_work(facts, index, gateway):
                provisioning.tenant_provision(facts.tenant.pk, now=now)
                result.repaired += 1
    for tenant_id in sorted(on_node):  # objects of tenants that are not on this gateway
        result.tenants_checked += 1
        if Tenant.objects.filter(pk=tenant_id).exclude(gateway=gateway).exists():
            row, _ = TenantProvisioning.objects.get_or_create(tenant_id=tenant_id)
            if row.node_gateway_id != gateway.pk:
                TenantProvisioning.objects.filter(pk=row.pk).update(node_gateway=gateway)
            provisioning.tenant_provision(tenant_id, now=now)
            result.repaired += 1
        else:
            _leave_unknown(gateway, tenant_id, index)
    return result


@dataclass
class _TenantFacts:
    tenant: Tenant
    row: TenantProvisioning | None
    token: SecurityToken | None
    facing_domains: list[CallingDomain]


def _tenants_with_their_facts(tenant_ids: list[int], gateway: Gateway) -> list[_TenantFacts]:
    """A chunk of tenants with their customer-facing domains, current token and provisioning
    row: four plain queries, matched by tenant id. Not select_related("provisioning") nor
    prefetch_related: both cache each side on the other, and those reference cycles kept every
    chunk alive until the cyclic garbage collector ran, so memory grew with the tenant count."""
    tenants = list(Tenant.objects.filter(pk__in=tenant_ids).order_by("pk"))
    rows = {
        row.tenant_id: row for row in TenantProvisioning.objects.filter(tenant_id__in=tenant_ids)
    }
    tokens = {
        token.tenant_id: token
        for token in SecurityToken.objects.filter(
            tenant_id__in=tenant_ids, state=TokenState.CURRENT
        ).defer("ciphertext")
    }
    domains: dict[int, list[CallingDomain]] = {}
    for domain in (
        CallingDomain.objects.customer_facing().filter(tenant_id__in=tenant_ids).order_by("pk")
    ):
        domains.setdefault(domain.tenant_id, []).append(domain)
    facts = []
    for tenant in tenants:
        tenant.gateway = gateway  # a forward reference only: the gateway does not point back
        facts.append(
            _TenantFacts(
                tenant=tenant,
                row=rows.get(tenant.pk),
                token=tokens.get(tenant.pk),
                facing_domains=domains.get(tenant.pk, []),
            )
        )
    return facts


def _needs_work(facts: _TenantFacts, index: NodeIndex, gateway: Gateway) -> bool:
    tenant, row, token = facts.tenant, facts.row, facts.token
    try:
        desired = desired_states.desired_state_for(tenant, token, facts.facing_domains)
    except InfinityRuleError:
        return True  # the job records why
    if desired.token is None and not index.holds_anything(tenant.pk):
        return False
    value_outdated = token is not None and (
        row is None or row.node_token_id != token.pk or row.node_gateway_id != gateway.pk
    )
    return index.differs(tenant.pk, desired, value_outdated=value_outdated)


def _leave_unknown(gateway: Gateway, tenant_id: int, index: NodeIndex) -> None:
    """Objects named for a tenant this database does not know (a restored backup, another
    portal using the same prefix): never touched, only reported."""
    logger.warning(
        "gateway %s holds %d objects named for tenant %s, which this portal does not know; "
        "they are left alone",
        gateway.pk,
        len(index.tokens.get(tenant_id, [])) + len(index.rules.get(tenant_id, [])),
        tenant_id,
    )
