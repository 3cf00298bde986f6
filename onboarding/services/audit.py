"""Who changed what: the actor behind every change, its audit event, and the refusal staff see
when a change is not allowed now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from onboarding.models import ActorKind, AuditAction, AuditEvent, Tenant
from onboarding.services import provisioning_requests


class TransitionRefused(Exception):
    """A transition that is not allowed now; the message tells staff why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Actor:
    """Who causes a change: a staff user, the holder of a customer link, or the system."""

    kind: str
    user: User | None = None
    ip_address: str | None = None
    label: str = ""

    @classmethod
    def staff(cls, user: User, ip_address: str | None = None) -> Actor:
        return cls(ActorKind.STAFF, user, ip_address, user.get_username())

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, None, None, label)

    @classmethod
    def customer(cls, ip_address: str | None = None) -> Actor:
        return cls(ActorKind.CUSTOMER, None, ip_address, "customer link")


def audit_record(
    *,
    tenant: Tenant | None,
    action: AuditAction,
    actor: Actor,
    now: datetime | None = None,
    from_status: str = "",
    to_status: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent.objects.create(
        tenant=tenant,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor_kind=actor.kind,
        actor_user=actor.user if actor.user is not None and actor.user.pk else None,
        actor_label=actor.label,
        ip_address=actor.ip_address,
        detail=detail or {},
        created_at=now or timezone.now(),
    )
    if tenant is not None and provisioning_requests.gateway_follows(action, tenant):
        provisioning_requests.provisioning_request(tenant.pk, now=event.created_at)
    return event
