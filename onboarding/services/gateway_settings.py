"""How a gateway is provisioned: its mode and its Management Node's credentials, as staff set
them in the admin or with `change_gateway`. A change resumes a stopped gateway and asks every
tenant on it (or still on its node) to be provisioned again."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from onboarding.infra import encryption
from onboarding.models import AuditAction, Gateway
from onboarding.services import audit, provisioning_requests
from onboarding.services.audit import Actor

# `management_password` is the plain password as typed; only its ciphertext is stored.
PROVISIONING_FIELDS = frozenset(
    {
        "provisioning",
        "management_url",
        "management_username",
        "management_password",
        "management_ca_bundle",
        "management_timeout",
        "routing_rule_priority",
    }
)


def provisioning_fields_apply(
    gateway: Gateway, fields: Mapping[str, Any], *, actor: Actor, now: datetime
) -> list[str]:
    """Set the given provisioning fields on the (locked) gateway, without saving it; on a
    change, record it and queue every tenant's job once the caller commits. Returns what
    changed, by name (never a value: the password is a secret)."""
    changed: list[str] = []
    for name, value in fields.items():
        if name == "management_password":
            if value:
                gateway.management_password_ciphertext = encryption.encrypt(value)
                changed.append(name)
            continue
        if getattr(gateway, name) != value:
            setattr(gateway, name, value)
            changed.append(name)
    if not changed:
        return []
    gateway.provisioning_stopped_at = None
    gateway.provisioning_stop_reason = ""
    return changed


def provisioning_change_record(
    gateway: Gateway, changed: list[str], *, actor: Actor, now: datetime
) -> int:
    """After the gateway is saved: the audit row, and a job for every tenant it concerns."""
    audit.audit_record(
        tenant=None,
        action=AuditAction.GATEWAY_PROVISIONING_CHANGED,
        actor=actor,
        now=now,
        detail={"gateway": gateway.name, "changed": sorted(changed)},
    )
    return provisioning_requests.gateway_tenants_request(gateway.pk, now=now)
