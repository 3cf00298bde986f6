""" "Adopt existing objects": take a tenant's token and routing rules that staff made by hand on
an Infinity node under the portal's management, so a gateway moves from manual provisioning to
the portal without a gap in service. Nothing is changed until staff confirm the plan.

A rule is a candidate when the portal did not tag it, it sends calls to Google Meet, and its
regex accepts a dial string of one of the tenant's calling domains; its token is the one it
names. Adopting renames the token and tags each rule as the portal would have; the tenant's
next job then converges them (the portal's token value is sent, fields are repaired).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from onboarding.domain import infinity_rules
from onboarding.domain.calling_domains import MeetingIdLength
from onboarding.domain.infinity_rules import DesiredRule
from onboarding.gateways import nodes
from onboarding.gateways.infinity_client import Resource
from onboarding.gateways.infinity_sync import same_reference
from onboarding.models import AuditAction, CallingDomain, ProvisioningMode, Tenant
from onboarding.services import provisioning, provisioning_requests
from onboarding.services.audit import Actor, TransitionRefused, audit_record

SAMPLE_LONG_ID = "1234567890123"
SAMPLE_SHORT_ID = "1234"


@dataclass
class AdoptionPlan:
    token: dict[str, Any] | None = None
    # (the node's rule, the portal rule it becomes)
    rules: list[tuple[dict[str, Any], DesiredRule]] = field(default_factory=list)
    # matching rules that are not adopted (a second rule for the same domain, another token)
    left_alone: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.token is None and not self.rules


def sample_dial_strings(tenant: Tenant) -> dict[str, str]:
    """Per portal rule tag, a dial string the customer's emails show for that calling domain."""
    domains = CallingDomain.objects.customer_facing().filter(tenant=tenant)
    samples = {}
    for domain in provisioning.dial_domains(domains):
        meeting_id = (
            SAMPLE_LONG_ID
            if domain.meeting_id_length == MeetingIdLength.LONG
            else domain.prefix + SAMPLE_SHORT_ID
        )
        tag = infinity_rules.rule_tag(tenant.pk, domain.id)
        samples[tag] = f"{meeting_id}@{infinity_rules.dial_domain_name(domain)}"
    return samples


def _accepts(regex: str, dial_string: str) -> bool:
    try:
        return re.search(regex, dial_string) is not None
    except re.error:
        return False


def adoption_plan(tenant: Tenant) -> AdoptionPlan:
    _refuse_unless_adoptable(tenant)
    token = provisioning.current_token(tenant.pk)
    desired = provisioning.desired_state_for(tenant, token)
    with nodes.client_for(tenant.gateway) as client:
        node_tokens = client.list_tokens()
        node_rules = client.list_rules()
    plan = AdoptionPlan()
    samples = sample_dial_strings(tenant)
    for wanted in desired.rules:
        dial = samples[wanted.tag]
        for node_rule in node_rules:
            if infinity_rules.parse_rule_tag(str(node_rule.get("tag") or "")) is not None:
                continue  # the portal's own
            if node_rule.get("called_device_type") != "gms_conference":
                continue
            if not _accepts(str(node_rule.get("match_string") or ""), dial):
                continue
            if any(r is node_rule for r, _ in plan.rules) or node_rule in plan.left_alone:
                continue
            referenced = next(
                (
                    t
                    for t in node_tokens
                    if same_reference(t.get("resource_uri"), node_rule.get("gms_access_token"))
                ),
                None,
            )
            taken_for_domain = any(w.tag == wanted.tag for _, w in plan.rules)
            other_token = plan.token is not None and referenced is not plan.token
            own_token = referenced is not None and infinity_rules.parse_token_name(
                str(referenced.get("name") or "")
            )
            if taken_for_domain or other_token or own_token:
                plan.left_alone.append(node_rule)
                continue
            plan.token = plan.token or referenced
            plan.rules.append((node_rule, wanted))
    return plan


def objects_adopt(
    *, tenant: Tenant, plan: AdoptionPlan, actor: Actor, now: datetime | None = None
) -> list[str]:
    """Rename and tag what the plan lists; then the tenant's job converges the rest."""
    now = now or timezone.now()
    _refuse_unless_adoptable(tenant)
    if plan.empty:
        raise TransitionRefused("There is nothing on the gateway to adopt for this tenant.")
    done: list[str] = []
    with nodes.client_for(tenant.gateway) as client:
        if plan.token is not None:
            name = infinity_rules.token_name(tenant.pk)
            client.patch(Resource.GMS_ACCESS_TOKEN, int(plan.token["id"]), {"name": name})
            done.append(f"the token {plan.token.get('name')} is now {name}")
        for node_rule, wanted in plan.rules:
            client.patch(Resource.GATEWAY_ROUTING_RULE, int(node_rule["id"]), {"tag": wanted.tag})
            done.append(f"the routing rule {node_rule.get('name')} is now tagged {wanted.tag}")
    audit_record(
        tenant=tenant,
        action=AuditAction.GATEWAY_OBJECTS_ADOPTED,
        actor=actor,
        now=now,
        detail={"gateway": tenant.gateway.name, "adopted": done},
    )
    provisioning_requests.provisioning_request(tenant.pk, now=now)
    return done


def _refuse_unless_adoptable(tenant: Tenant) -> None:
    if tenant.gateway.provisioning != ProvisioningMode.INFINITY:
        raise TransitionRefused(
            f"{tenant.gateway.name} is not provisioned through Pexip Infinity's API: set its "
            "provisioning mode and credentials first."
        )
    token = provisioning.current_token(tenant.pk)
    if token is None or tenant.status not in provisioning.SERVED_STATUSES:
        raise TransitionRefused(
            f"{tenant.name} has no token the portal could give the gateway (it is "
            f"{tenant.get_status_display().lower()}): adopting would remove what the gateway "
            "serves. Adopt once the customer has uploaded the token."
        )
