"""Helpers for the provisioning tests: an Infinity gateway pointed at the Management Node
double, and a stand-in for the worker that runs the jobs that are due."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from onboarding.gateways import provisioning
from onboarding.infra import encryption
from onboarding.models import Gateway, ProvisioningMode, TenantProvisioning
from onboarding.services import changes
from onboarding.services.audit import Actor

STAFF = Actor.system("staff")


def infinity_settings(node, **overrides: object) -> dict[str, object]:
    return {
        "provisioning": ProvisioningMode.INFINITY,
        "management_url": f"https://127.0.0.1:{node.port}",
        "management_username": node.username,
        "management_password": node.password,
        "management_ca_bundle": node.ca_bundle.read_text(),
        "routing_rule_priority": 50,
        **overrides,
    }


def make_infinity(node, gateway: Gateway | None = None, **overrides: object) -> Gateway:
    """Switch a gateway (the default one) to Infinity provisioning, as staff would."""
    gateway = gateway or Gateway.objects.get(is_default=True)
    changes.gateway_change(
        gateway=gateway, actor=STAFF, fields=infinity_settings(node, **overrides)
    )
    gateway.refresh_from_db()
    return gateway


def run_due_jobs(now: datetime | None = None) -> list[object]:
    """What the retry pass and a worker do together: run every job that is due, once."""
    now = now or timezone.now()
    due = TenantProvisioning.objects.filter(next_attempt_at__lte=now).order_by("tenant_id")
    return [
        provisioning.tenant_provision(t, now=now) for t in due.values_list("tenant_id", flat=True)
    ]


def password_is_encrypted(gateway: Gateway, password: str) -> bool:
    stored = gateway.management_password_ciphertext
    return bool(stored) and password not in stored and encryption.decrypt(stored) == password


def made_by_hand(
    node, *, token_name: str, token_value: str, rule_name: str, tag: str = "", priority: int = 20
) -> tuple[str, str]:
    """A token and a rule for acme.onpexip.com's long IDs that staff made on the node, not the
    portal; returns their URIs."""
    token_uri = node.add_by_hand("gms_access_token", name=token_name, token=token_value)
    rule_uri = node.add_by_hand(
        "gateway_routing_rule",
        name=rule_name,
        tag=tag,
        match_string=r"(?i)^([0-9]{13})@acme\.onpexip\.com$",
        replace_string=r"\1",
        called_device_type="gms_conference",
        outgoing_protocol="gms",
        gms_access_token=token_uri,
        priority=priority,
    )
    return token_uri, rule_uri
