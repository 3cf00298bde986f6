"""The audit trail: who did what to a tenant, when and from where."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ActorKind(models.TextChoices):
    STAFF = "staff", "Staff"
    CUSTOMER = "customer", "Customer link"
    SYSTEM = "system", "System"


class AuditAction(models.TextChoices):
    """Every action the audit trail records; the rate limits, the dashboards and the timeline
    filter on these."""

    CREATED = "created", "Created"
    CHANGED = "changed", "Changed in the admin"
    CALLING_DOMAIN_ADDED = "calling_domain_added", "Calling domain added"
    CALLING_DOMAIN_REMOVED = "calling_domain_removed", "Calling domain removed"
    CALLING_DOMAIN_MOVE_STARTED = "calling_domain_move_started", "Calling domain move started"
    CALLING_DOMAIN_SWITCHED = "calling_domain_switched", "Calling domain switched"
    CALLING_DOMAIN_RETIRED = "calling_domain_retired", "Calling domain retired"
    SETTINGS_CHANGED = "settings_changed", "Settings changed"
    GATEWAY_CHANGED = "gateway_changed", "Gateway changed"
    DNS_PENDING = "dns_pending", "Waiting for DNS"
    ENABLED = "enabled", "Enabled"
    TOKEN_STORED = "token_stored", "Token stored"
    TOKEN_REPLACED = "token_replaced", "Token replaced"
    TOKEN_REVOKED = "token_revoked", "Token revoked"
    SUSPENDED = "suspended", "Suspended"
    RESUMED = "resumed", "Resumed"
    OFFBOARDED = "offboarded", "Offboarded"
    REINSTATED = "reinstated", "Reinstated"
    CONTACTS_ERASED = "contacts_erased", "Contact addresses erased"
    UPLOAD_LINK_ISSUED = "upload_link_issued", "Upload link issued"
    EMAIL_SENT_AGAIN = "email_sent_again", "Email sent again"
    DNS_VERIFIED = "dns_verified", "DNS verified"
    DNS_DRIFT = "dns_drift", "DNS drift"
    DNS_DRIFT_CLEARED = "dns_drift_cleared", "DNS drift cleared"
    GATEWAY_API_KEY_ISSUED = "gateway_api_key_issued", "Gateway API key issued"
    GATEWAY_API_KEY_REVOKED = "gateway_api_key_revoked", "Gateway API key revoked"
    GATEWAY_HAS_TOKEN = "gateway_has_token", "Gateway has the token"
    GATEWAY_CONFIGURED_BY_STAFF = "gateway_configured_by_staff", "Configured on the gateway"
    GATEWAY_PROVISIONING_FAILED = "gateway_provisioning_failed", "Gateway provisioning failed"
    GATEWAY_UPDATED = "gateway_updated", "Gateway updated"
    GATEWAY_DRIFT_REPAIRED = "gateway_drift_repaired", "Gateway drift repaired"
    GATEWAY_OBJECTS_REMOVED = "gateway_objects_removed", "Removed from the gateway"
    GATEWAY_OBJECTS_ADOPTED = "gateway_objects_adopted", "Gateway objects adopted"
    GATEWAY_PROVISIONING_CHANGED = "gateway_provisioning_changed", "Gateway provisioning changed"


class AuditEvent(models.Model):
    """Who did what to a tenant, when and from where. Never edited, never deleted."""

    tenant = models.ForeignKey(
        "onboarding.Tenant",
        on_delete=models.PROTECT,
        related_name="audit_events",
        null=True,
        blank=True,
    )
    action = models.CharField(max_length=50, choices=AuditAction.choices)
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
