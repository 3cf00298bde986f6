"""Where each tenant stands with its gateway: what the gateway holds, what went wrong, and
what staff must still do (architecture.md, "Gateway provisioning")."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from onboarding.models.gateways import Gateway
from onboarding.models.tenants import Tenant
from onboarding.models.tokens import SecurityToken


class ProvisioningState(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_SYNC = "in_sync", "In sync"
    FAILED = "failed", "Failed"
    AWAITING_STAFF = "awaiting_staff", "Awaiting staff"


class TenantProvisioning(models.Model):
    """One row per tenant, made at its first provisioning request.

    `desired_digest` is a digest of what the gateway should hold (token row, rules), as last
    applied (Infinity), confirmed by staff (manual) or refused by the node (failed): comparing
    it with today's tells whether anything changed since.
    """

    # derived state: it goes with the tenant
    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="provisioning")
    state = models.CharField(
        max_length=20, choices=ProvisioningState.choices, default=ProvisioningState.PENDING
    )
    # for staff: the node's message, the retry plan, or what to change by hand
    detail = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    drift_repaired_at = models.DateTimeField(null=True, blank=True)
    desired_digest = models.CharField(max_length=64, blank=True)
    # the Infinity node that holds this tenant's objects (they leave it when the tenant moves)
    node_gateway = models.ForeignKey(
        Gateway, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # whose value the node holds: the value goes again whenever the portal's token changes
    node_token = models.ForeignKey(
        SecurityToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # one job at a time per tenant: a second one asks the holder to run again
    lease_until = models.DateTimeField(null=True, blank=True)
    rerun_requested = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"provisioning of tenant {self.tenant_id}: {self.state}"
