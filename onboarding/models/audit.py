"""The audit trail: who did what to a tenant, when and from where."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ActorKind(models.TextChoices):
    STAFF = "staff", "Staff"
    CUSTOMER = "customer", "Customer link"
    SYSTEM = "system", "System"


class AuditEvent(models.Model):
    """Who did what to a tenant, when and from where. Never edited, never deleted."""

    tenant = models.ForeignKey(
        "onboarding.Tenant",
        on_delete=models.PROTECT,
        related_name="audit_events",
        null=True,
        blank=True,
    )
    action = models.CharField(max_length=50)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_label = models.CharField(max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} by {self.actor_label}"
