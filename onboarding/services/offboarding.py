"""Ending a tenant's service, erasing its contact addresses later, and starting it afresh.

Offboarding is final: the tenant record, its name and its audit trail stay for the record; the
tokens' ciphertexts go at once; the contact addresses go after CONTACT_RETENTION. Reinstating a
tenant is a fresh onboarding: a new tenant record (names are unique only among tenants that are
not offboarded), created in draft from the old one's settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from onboarding.mail import composers
from onboarding.models import (
    AuditAction,
    AuditEvent,
    CallingDomain,
    OutboundEmail,
    OutboxStatus,
    SecurityToken,
    Tenant,
    TenantStatus,
    TokenState,
)
from onboarding.services import audit, invitations, lifecycle, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.lifecycle import Operation
from onboarding.services.tenant_creation import CallingDomainSpec, CreatedTenant

S = TenantStatus
# what an erased address reads as wherever it stood
ERASED = "[erased]"


def offboard_split(tenants: Iterable[Tenant]) -> tuple[list[Tenant], list[Tenant]]:
    """A selection of tenants as (those offboarding would end, those already offboarded)."""
    to_offboard: list[Tenant] = []
    skipped: list[Tenant] = []
    for tenant in tenants:
        (
            to_offboard if lifecycle.is_allowed(Operation.OFFBOARD, tenant.status) else skipped
        ).append(tenant)
    return to_offboard, skipped


def tenant_offboard(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> Tenant:
    """End the service, from any state but offboarded, in one transaction.

    The current and previous tokens' ciphertexts are deleted, pending upload links revoked,
    pending emails cancelled (one already being sent may still go out), DNS checks stopped
    and calling domains retired (a shared prefix stays on its row: quarantine), then the
    "service ended" email goes to the service-notification contacts. The gateway feed serves
    active tenants only, so this one drops out of it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # calling domains before the tenant: the order the DNS writer locks them in
        list(CallingDomain.objects.select_for_update().filter(tenant=tenant).order_by("pk"))
        event = lifecycle.tenant_mark_offboarded(tenant=tenant, actor=actor, now=now)
        _end_service(tenant, event, now)
    return tenant


def _end_service(tenant: Tenant, event: AuditEvent, now: datetime) -> None:
    destroyed = SecurityToken.objects.filter(
        tenant=tenant, state__in=[TokenState.CURRENT, TokenState.PREVIOUS]
    ).update(state=TokenState.DESTROYED, ciphertext="", destroyed_at=now)
    revoked = invitations.invitations_revoke(tenant=tenant, now=now)
    cancelled = OutboundEmail.objects.filter(tenant=tenant, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.CANCELLED, message_ciphertext="", queued_at=None
    )
    retired = CallingDomain.objects.filter(tenant=tenant, retired_at__isnull=True).update(
        retired_at=now, next_check_at=None
    )
    event.detail = {
        "tokens_destroyed": destroyed,
        "links_revoked": revoked,
        "emails_cancelled": cancelled,
        "calling_domains_retired": retired,
    }
    event.save(update_fields=["detail"])
    tenant.refresh_from_db()
    composers.service_ended_queue(tenant, now)


# Erasing contact addresses after the retention period -------------------------------------------


def contacts_erase_due(*, now: datetime | None = None) -> int:
    """Erase the contact addresses of every tenant offboarded at least CONTACT_RETENTION ago
    (the periodic job); returns how many tenants were erased."""
    now = now or timezone.now()
    due = Tenant.objects.filter(
        status=S.OFFBOARDED,
        offboarded_at__lte=now - settings.CONTACT_RETENTION,
        contacts_erased_at__isnull=True,
    ).values_list("pk", flat=True)
    return sum(tenant_contacts_erase(tenant_id=pk, now=now) for pk in list(due))


def tenant_contacts_erase(*, tenant_id: int, now: datetime | None = None) -> bool:
    """Erase one offboarded tenant's contact addresses everywhere they appear."""
    now = now or timezone.now()
    with transaction.atomic():
        tenant = (
            Tenant.objects.select_for_update()
            .filter(pk=tenant_id, status=S.OFFBOARDED, contacts_erased_at__isnull=True)
            .first()
        )
        if tenant is None:
            return False
        addresses = _known_addresses(tenant)
        for erase in CONTACT_ERASERS:
            erase(tenant, addresses)
        Tenant.objects.filter(pk=tenant.pk).update(contacts_erased_at=now)
        audit.audit_record(
            tenant=tenant,
            action=AuditAction.CONTACTS_ERASED,
            actor=Actor.system("retention"),
            now=now,
            detail={"addresses": len(addresses)},
        )
    return True


def _known_addresses(tenant: Tenant) -> set[str]:
    addresses = {
        tenant.main_contact_email,
        *tenant.token_upload_contacts,
        *tenant.service_notification_contacts,
    }
    for recipients in OutboundEmail.objects.filter(tenant=tenant).values_list(
        "recipients", flat=True
    ):
        addresses.update(recipients)
    staff = {a.lower() for a in settings.STAFF_NOTIFICATION_EMAILS}
    return {a for a in addresses if a and "@" in a and a.lower() not in staff}


def scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    """This JSON value with every address the pattern matches replaced by ERASED."""
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [scrub(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: scrub(item, pattern) for key, item in value.items()}
    return value


def _pattern(addresses: set[str]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(a) for a in addresses), key=len, reverse=True)
    return re.compile("|".join(alternatives) or r"(?!)", re.IGNORECASE)


def _erase_tenant(tenant: Tenant, addresses: set[str]) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(
        main_contact_email=ERASED, token_upload_contacts=[], service_notification_contacts=[]
    )


def _erase_outbox(tenant: Tenant, addresses: set[str]) -> None:
    pattern = _pattern(addresses)
    for row in OutboundEmail.objects.filter(tenant=tenant).only(
        "pk", "recipients", "last_error", "subject"
    ):
        OutboundEmail.objects.filter(pk=row.pk).update(
            recipients=[a for a in row.recipients if a not in addresses],
            last_error=scrub(row.last_error, pattern),
            subject=scrub(row.subject, pattern),
            message_ciphertext="",
        )


def _erase_audit(tenant: Tenant, addresses: set[str]) -> None:
    pattern = _pattern(addresses)
    for event in AuditEvent.objects.filter(tenant=tenant).only("pk", "detail"):
        scrubbed = scrub(event.detail, pattern)
        if scrubbed != event.detail:
            AuditEvent.objects.filter(pk=event.pk).update(detail=scrubbed)


def _erase_history(tenant: Tenant, addresses: set[str]) -> None:
    # Only the tenant's history holds contacts; calling-domain and gateway history hold none.
    # A queryset update writes no new history row, so the erasure leaves no copy behind.
    pattern = _pattern(addresses)
    Tenant.history.filter(id=tenant.pk).update(
        main_contact_email=ERASED,
        token_upload_contacts=[],
        service_notification_contacts=[],
    )
    for record in Tenant.history.filter(id=tenant.pk).exclude(history_change_reason=None):
        Tenant.history.filter(pk=record.pk).update(
            history_change_reason=scrub(record.history_change_reason, pattern)
        )


# Every place a tenant's contact addresses are stored, in one list.
CONTACT_ERASERS: list[Callable[[Tenant, set[str]], None]] = [
    _erase_tenant,
    _erase_outbox,
    _erase_audit,
    _erase_history,
]


# Reinstating --------------------------------------------------------------------------------------


def tenant_reinstate(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> CreatedTenant:
    """A fresh onboarding for an offboarded tenant: a new tenant record in draft (or DNS
    pending) with the old one's settings; shared-domain tenants get a new prefix, since the
    old one stays in quarantine."""
    now = now or timezone.now()
    old = Tenant.objects.get(pk=tenant.pk)
    if not lifecycle.is_allowed(Operation.REINSTATE, old.status):
        raise audit.TransitionRefused(
            f"{old.name} is {old.get_status_display().lower()}: only an offboarded tenant can "
            "be reinstated."
        )
    if old.contacts_erased_at is not None:
        raise audit.TransitionRefused(
            f"{old.name}'s contact addresses were erased; create the tenant anew instead."
        )
    last_domains = CallingDomain.objects.filter(tenant=old, retired_at=old.offboarded_at)
    specs = [
        CallingDomainSpec(
            option=d.option,
            domain="" if d.option == "shared" else d.domain,
            meeting_id_length=d.meeting_id_length,
            prefix="" if d.option == "shared" else d.prefix,
            sfb_additional_gateway=d.sfb_additional_gateway,
        )
        for d in last_domains
        if not d.is_awaiting_switch and not d.is_replaced_by_a_switch
    ]
    with transaction.atomic():
        created = tenant_creation.tenant_create(
            name=old.name,
            main_contact_email=old.main_contact_email,
            calling_domains=specs,
            actor=actor,
            gateway=old.gateway,
            token_upload_contacts=old.token_upload_contacts,
            service_notification_contacts=old.service_notification_contacts,
            access_scope=old.access_scope,
            access_scope_units=old.access_scope_units,
            teams_interop_domains=old.teams_interop_domains,
            now=now,
        )
        audit.audit_record(
            tenant=old,
            action=AuditAction.REINSTATED,
            actor=actor,
            now=now,
            detail={"new_tenant": created.tenant.pk},
        )
    return created
