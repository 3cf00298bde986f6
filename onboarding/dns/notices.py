"""What a DNS verdict sets off beyond the schedule: a domain verified (audit, confirmation,
enabling the tenants that chose it), drift flagged or cleared, and the staff emails (DNS drift,
still not verified after 7 days). Called by the sweeper inside its write transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q

from onboarding.dns import verdicts
from onboarding.dns.schedule import DomainState
from onboarding.mail import composers, staff_alerts
from onboarding.mail.outbox import email_queue
from onboarding.models import (
    ActorKind,
    AuditAction,
    AuditEvent,
    CallingDomain,
    DnsVerdict,
    EmailKind,
    Tenant,
    TenantStatus,
)
from onboarding.services import audit, lifecycle, provisioning_requests, tokens

logger = logging.getLogger(__name__)

SYSTEM = audit.Actor.system("DNS check")


def domains_verified_record(states: list[DomainState], now: datetime) -> None:
    """Audit each newly verified domain; move on the tenants that waited for it."""
    if not states:
        return
    AuditEvent.objects.bulk_create(
        AuditEvent(
            tenant_id=state.tenant_id,
            detail={"domain": state.domain},
            action=AuditAction.DNS_VERIFIED,
            from_status="",
            to_status="",
            actor_kind=ActorKind.SYSTEM,
            actor_label=SYSTEM.label,
            created_at=now,
        )
        for state in states
    )
    # (bulk_create skips audit_record, which asks for provisioning: ask here) a verified own
    # domain becomes dialable, so the gateway of a tenant that holds a token gets its rule
    served = Tenant.objects.filter(
        pk__in={s.tenant_id for s in states},
        status__in=[TenantStatus.ACTIVE, TenantStatus.SUSPENDED],
    ).values_list("pk", flat=True)
    for tenant_id in served:
        provisioning_requests.provisioning_request(tenant_id, now=now)
    # One query finds both kinds of tenant that wait: an active one whose confirmation waited
    # for this domain gets it now; one that chose to be enabled automatically is enabled.
    # Locked: the gateway getting an active tenant's token at this moment takes the same lock
    # (tokens.gateway_has_token_mark), so one of the two sees the other's fact.
    waiting = (
        Tenant.objects.filter(pk__in={s.tenant_id for s in states})
        .filter(
            Q(status=TenantStatus.ACTIVE)
            | Q(status=TenantStatus.DNS_PENDING, enable_when_dns_verified=True)
        )
        .select_for_update()
        .order_by("pk")
    )
    for tenant in waiting:
        if tenant.status == TenantStatus.ACTIVE:
            tokens.confirmation_queue_if_ready(tenant, now=now)
            continue
        try:
            lifecycle.tenant_dns_verified(tenant=tenant, actor=SYSTEM, now=now)
        except audit.TransitionRefused as refusal:
            logger.warning("%s was not enabled after DNS verified: %s", tenant, refusal.message)


def drift_flag(state: DomainState, check: verdicts.DomainCheck, now: datetime) -> None:
    CallingDomain.objects.filter(pk=state.pk).update(drift_flagged_at=now)
    calling_domain = CallingDomain.objects.select_related("tenant").get(pk=state.pk)
    audit.audit_record(
        tenant=calling_domain.tenant,
        action=AuditAction.DNS_DRIFT,
        actor=SYSTEM,
        now=now,
        detail={"domain": state.domain},
    )
    _staff_email(
        kind=EmailKind.DNS_DRIFT,
        idempotency_key=f"dns_drift:{state.pk}:{now:%Y%m%dT%H%M%S}",
        calling_domain=calling_domain,
        check=check,
        now=now,
    )


def drift_clear(state: DomainState, now: datetime) -> None:
    CallingDomain.objects.filter(pk=state.pk).update(drift_flagged_at=None)
    active = Tenant.objects.filter(pk=state.tenant_id, status=TenantStatus.ACTIVE)
    for tenant in active.select_for_update():  # locked: see domains_verified_record
        tokens.confirmation_queue_if_ready(tenant, now=now)  # the flag held it back
    audit.audit_record(
        tenant=Tenant(pk=state.tenant_id),
        action=AuditAction.DNS_DRIFT_CLEARED,
        actor=SYSTEM,
        now=now,
        detail={"domain": state.domain},
    )


def not_verified_notify(state: DomainState, check: verdicts.DomainCheck, now: datetime) -> None:
    CallingDomain.objects.filter(pk=state.pk).update(not_verified_notified_at=now)
    calling_domain = CallingDomain.objects.select_related("tenant").get(pk=state.pk)
    since = state.dns_pending_since or now
    _staff_email(
        kind=EmailKind.DNS_NOT_VERIFIED,
        idempotency_key=f"dns_not_verified:{state.pk}:{since:%Y%m%dT%H%M%S}",
        calling_domain=calling_domain,
        check=check,
        now=now,
        days=(now - since).days,
    )


def _staff_email(
    *,
    kind: str,
    idempotency_key: str,
    calling_domain: CallingDomain,
    check: verdicts.DomainCheck,
    now: datetime,
    **extra: Any,
) -> None:
    if not settings.STAFF_NOTIFICATION_EMAILS:
        logger.error("STAFF_NOTIFICATION_EMAILS is empty: nobody is told (%s)", idempotency_key)
        return
    tenant = calling_domain.tenant
    email_queue(
        kind=kind,
        idempotency_key=idempotency_key,
        recipients=composers.recipients_for(kind, tenant),
        tenant=tenant,
        now=now,
        context=staff_alerts.dns_alert_context(
            calling_domain=calling_domain,
            tenant_status=lifecycle.status_label(tenant),
            records=[
                staff_alerts.AlertRecord(
                    name=r.expected.name,
                    type=r.expected.rdtype,
                    expected=r.expected.value,
                    verdict=DnsVerdict(r.verdict).label,
                    found=r.found_display,
                )
                for r in check.records
            ],
            checked_at=now,
            **extra,
        ),
    )
