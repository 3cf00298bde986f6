"""Upload invitations (the signed links) and the security tokens customers upload."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from onboarding.models.tenants import Tenant


class UploadInvitation(models.Model):
    """One signed upload link. The database keeps only the hash of the link's random nonce."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="invitations")
    nonce_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"upload link {self.pk} for {self.tenant_id}"


class TokenState(models.TextChoices):
    CURRENT = "current", "Current"
    PREVIOUS = "previous", "Previous (kept for the grace period)"
    DESTROYED = "destroyed", "Destroyed"
    REVOKED = "revoked", "Revoked by staff"


class SecurityToken(models.Model):
    """An uploaded token. The ciphertext goes; the fingerprint, time and source stay as history."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="tokens")
    ciphertext = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=TokenState.choices, default=TokenState.CURRENT)
    uploaded_at = models.DateTimeField(default=timezone.now)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    invitation = models.ForeignKey(
        UploadInvitation, on_delete=models.PROTECT, null=True, blank=True, related_name="tokens"
    )
    replaced_at = models.DateTimeField(null=True, blank=True)
    # uploaded while another token was current: "token replaced" went out, not a confirmation
    is_replacement = models.BooleanField(default=False, editable=False)
    # "the gateway has the token": set by the gateway's provisioning mode (Infinity: read back
    # from the management node; feed: fetched; manual: staff confirmed). "Ready" waits for it.
    gateway_has_token_at = models.DateTimeField(null=True, blank=True, editable=False)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(state="current"), name="one_current_token"
            )
        ]

    def __str__(self) -> str:
        # never the token: only what staff may see
        return f"token {self.fingerprint} ({self.state})"

    def __repr__(self) -> str:
        return f"<SecurityToken {self.pk} {self.fingerprint} {self.state}>"
