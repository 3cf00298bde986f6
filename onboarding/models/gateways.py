"""Gateways: the provider's service points that tenants are assigned to."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from onboarding.domain import domain_names


class ProvisioningMode(models.TextChoices):
    """How the gateway gets a tenant's token (architecture.md, "Gateway provisioning")."""

    INFINITY = "infinity", "Pexip Infinity management API (the portal configures it)"
    FEED = "feed", "Provisioning feed (the gateway pulls it)"
    MANUAL = "manual", "Manual (staff configure it, then confirm)"


class Gateway(models.Model):
    """A provider service point; staff keep these. Customers type its address into Google Admin."""

    name = models.CharField(max_length=100, unique=True)
    ip_address = models.GenericIPAddressField(
        "IPv4 address", protocol="IPv4", help_text="What the customer enters as the gateway IP."
    )
    hostname = models.CharField(
        max_length=253, help_text="What the customer enters as the gateway hostname."
    )
    sip_host = models.CharField(
        "SIP/H.323 host",
        max_length=253,
        blank=True,
        help_text="Where own domains' SRV records must point. Blank means the hostname.",
    )
    provisioning = models.CharField(
        "provisioning mode",
        max_length=10,
        choices=ProvisioningMode.choices,
        default=ProvisioningMode.MANUAL,
    )
    management_url = models.CharField(
        "management node URL",
        max_length=300,
        blank=True,
        help_text="Infinity only: https://<management node>. Plain http:// is refused.",
    )
    management_username = models.CharField(max_length=150, blank=True)
    # encrypted with TOKEN_ENCRYPTION_KEYS (rotate_token_keys covers it); never shown
    management_password_ciphertext = models.TextField(blank=True, editable=False)
    management_ca_bundle = models.TextField(
        "management CA bundle",
        blank=True,
        help_text="PEM certificates that sign the management node's certificate. Blank: the "
        "public CAs that requests trusts (certifi's bundle), not the operating system's store, "
        "so paste a private CA here. TLS is always verified.",
    )
    management_timeout = models.FloatField(
        "management timeout (seconds)",
        default=10.0,
        validators=[MinValueValidator(1.0), MaxValueValidator(120.0)],
    )
    routing_rule_priority = models.PositiveSmallIntegerField(
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text="1-200; the node checks rules in ascending priority and the first match wins.",
    )
    # 401/403 from the node: nothing is sent until the credentials change or staff press
    # "Provision now"
    provisioning_stopped_at = models.DateTimeField(null=True, blank=True, editable=False)
    provisioning_stop_reason = models.TextField(blank=True, editable=False)
    is_default = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # who changed what and when (django-simple-history; nothing here is secret)
    history = HistoricalRecords(excluded_fields=["management_password_ciphertext"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_gateway"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        for field in ("hostname", "sip_host"):
            value = getattr(self, field)
            if field == "sip_host" and not value:
                continue
            try:
                setattr(self, field, domain_names.normalize_domain_name(value))
            except ValidationError as exc:
                errors[field] = exc.messages
        errors.update(self._management_errors())
        if errors:
            raise ValidationError(errors)

    def _management_errors(self) -> dict[str, list[str]]:
        self.management_url = self.management_url.strip().rstrip("/")
        if self.management_url and urlsplit(self.management_url).scheme.lower() != "https":
            return {"management_url": ["The management node is reached over https:// only."]}
        if self.provisioning != ProvisioningMode.INFINITY:
            return {}
        errors = {}
        if not self.management_url or not urlsplit(self.management_url).hostname:
            errors["management_url"] = [
                "Give the management node's address, e.g. https://manager.example.com."
            ]
        if not self.management_username:
            errors["management_username"] = ["Give the management API's username."]
        return errors

    @property
    def provisioning_stopped(self) -> bool:
        return self.provisioning_stopped_at is not None

    @property
    def effective_sip_host(self) -> str:
        return self.sip_host or self.hostname
