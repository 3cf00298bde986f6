"""Gateways: the provider's service points that tenants are assigned to."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from onboarding.domain import domain_names


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
    is_default = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # who changed what and when (django-simple-history; nothing here is secret)
    history = HistoricalRecords()

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
        errors = {}
        for field in ("hostname", "sip_host"):
            value = getattr(self, field)
            if field == "sip_host" and not value:
                continue
            try:
                setattr(self, field, domain_names.normalize_domain_name(value))
            except ValidationError as exc:
                errors[field] = exc.messages
        if errors:
            raise ValidationError(errors)

    @property
    def effective_sip_host(self) -> str:
        return self.sip_host or self.hostname
