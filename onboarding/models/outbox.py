"""The email outbox and the periodic jobs' heartbeats."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from onboarding.models.tenants import Tenant


class Heartbeat(models.Model):
    """The last time a periodic job (or the scheduler, as it starts) showed it is alive."""

    name = models.CharField(max_length=50, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class EmailKind(models.TextChoices):
    DNS_INSTRUCTIONS = "dns_instructions", "DNS instructions"
    INITIAL = "initial", "Initial (enable)"
    REMINDER = "reminder", "Reminder"
    NEW_LINK = "new_link", "New link"
    CONFIRMATION = "confirmation", "Confirmation"
    TOKEN_REPLACED = "token_replaced", "Token replaced"
    SETTINGS_CHANGED = "settings_changed", "Settings changed"
    SERVICE_ENDED = "service_ended", "Service ended"
    DNS_NOT_VERIFIED = "dns_not_verified", "DNS not verified after 7 days"
    DNS_DRIFT = "dns_drift", "DNS drift"
    EMAIL_FAILED = "email_failed", "Email failed"
    GATEWAY_PROBLEM = "gateway_problem", "Gateway provisioning problem"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


def new_message_key() -> str:
    return secrets.token_hex(12)


class OutboundEmail(models.Model):
    """One email in the outbox. The rendered message is encrypted and erased once sent."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="emails", null=True, blank=True
    )
    kind = models.CharField(max_length=30, choices=EmailKind.choices)
    idempotency_key = models.CharField(max_length=200, unique=True)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    # Fernet ciphertext of the text and HTML bodies (they may hold an upload link)
    message_ciphertext = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # random, fixed at creation: the Message-ID is derived from the row, so a resend after a
    # crash carries the same one and receivers can drop the duplicate
    message_key = models.CharField(max_length=24, default=new_message_key, editable=False)
    claim_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("send_again", "Can send an email again")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["claim_token"]),
            models.Index(fields=["tenant", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {', '.join(self.recipients)} ({self.status})"

    @property
    def message_id(self) -> str:
        domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
        return f"<outbox.{self.pk}.{self.message_key}@{domain}>"
