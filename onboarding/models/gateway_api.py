"""Gateways pulling their configuration: their API keys and the audit of every fetch."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from onboarding.models.gateways import Gateway


class GatewayApiKeyQuerySet(models.QuerySet):
    def usable(self, now: datetime | None = None) -> GatewayApiKeyQuerySet:
        """Not revoked and not past its expiry: such a key authenticates."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )

    def gateway_pulls_feed(self, gateway_id: int, *, now: datetime | None = None) -> bool:
        """A gateway with a usable API key takes its tokens from the feed.

        Only then does "ready" wait for its fetch; a gateway without one (never set up, or every
        key revoked) keeps the earlier rule, or confirmations would wait for a fetch that never
        comes.
        """
        return self.usable(now).filter(gateway_id=gateway_id).exists()


class GatewayApiKey(models.Model):
    """One API key of a gateway. Only its SHA-256 is stored; the key is shown once at creation.

    A gateway may hold several usable keys at once, so a new key can be deployed before the old
    one is revoked (rotation with overlap).
    """

    gateway = models.ForeignKey(Gateway, on_delete=models.PROTECT, related_name="api_keys")
    # the public part of the key, for lookup and for staff to tell keys apart
    key_id = models.CharField("key ID", max_length=32, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    label = models.CharField(
        max_length=100, blank=True, help_text="Where the key is deployed, e.g. 'gw1 2026 rotation'."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.CharField(max_length=150, blank=True, editable=False)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Optional. After this time the key stops working."
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = GatewayApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "gateway API key"
        ordering = ["gateway_id", "-created_at", "-id"]

    def __str__(self) -> str:
        # the key ID only: the key itself is never stored
        return f"{self.gateway_id and self.gateway.name} key {self.key_id}"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class GatewayFetch(models.Model):
    """One authenticated fetch of the provisioning feed: who, when, from where, what was served."""

    gateway = models.ForeignKey(Gateway, on_delete=models.PROTECT, related_name="fetches")
    api_key = models.ForeignKey(GatewayApiKey, on_delete=models.PROTECT, related_name="fetches")
    fetched_at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField()
    etag = models.CharField(max_length=80, blank=True)
    # ids of the tenants whose tokens this response carried (none for a 304)
    tenant_ids = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "gateway feed fetch"
        verbose_name_plural = "gateway feed fetches"
        ordering = ["-fetched_at", "-id"]
        indexes = [models.Index(fields=["gateway", "fetched_at"])]

    def __str__(self) -> str:
        return f"{self.fetched_at:%Y-%m-%d %H:%M:%S} {self.status_code} by key {self.api_key_id}"
