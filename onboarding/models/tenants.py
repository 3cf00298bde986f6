"""Tenants: one customer's Google Workspace account each.

Their calling domains, gateways and the audit trail have their own modules.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from onboarding.domain import calling_domains
from onboarding.domain.calling_domains import AccessScope
from onboarding.models.gateways import Gateway
from onboarding.models.unique_names import UniqueNameCheckedInClean


def validate_email_list(addresses: list[str]) -> None:
    if not isinstance(addresses, list):
        raise ValidationError("Enter a list of email addresses.")
    for address in addresses:
        if not isinstance(address, str) or any(ch in address for ch in "\r\n,;<>\"'"):
            raise ValidationError(
                "%(value)s is not a plain email address.", params={"value": address}
            )
        validate_email(address)


def new_ownership_code() -> str:
    # 128 bits: unguessable, so a TXT record proves control of the domain.
    return secrets.token_hex(16)


class TenantStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    DNS_PENDING = "dns_pending", "DNS pending"
    INVITED = "invited", "Invited"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    OFFBOARDED = "offboarded", "Offboarded"


class Tenant(UniqueNameCheckedInClean, models.Model):
    """One customer's Google Workspace account; the security token is tenant-wide."""

    unique_name_field = "name"

    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=20, choices=TenantStatus.choices, default=TenantStatus.DRAFT, editable=False
    )
    status_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    # where `resume` returns to; set only while suspended
    status_before_suspension = models.CharField(
        max_length=20, choices=TenantStatus.choices, blank=True, editable=False
    )
    main_contact_email = models.EmailField("main contact email")
    token_upload_contacts = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_email_list],
        help_text="Who receives the upload link. Blank means the main contact.",
    )
    service_notification_contacts = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_email_list],
        help_text="Who is told the service is ready. Blank means the main contact.",
    )
    gateway = models.ForeignKey(Gateway, on_delete=models.PROTECT, related_name="tenants")
    access_scope = models.CharField(
        max_length=20, choices=AccessScope.choices, default=AccessScope.WHOLE_ORGANISATION
    )
    access_scope_units = models.JSONField(
        "organisational units or groups",
        default=list,
        blank=True,
        help_text="Only when access is limited: one OU path or group address per line.",
    )
    teams_interop_domains = models.JSONField(
        default=list,
        blank=True,
        help_text="Domains this tenant uses for Teams video interop; none may be a calling domain.",
    )
    # when the tenant was last invited to upload (enable, or a revoked token): reminders count
    # from here
    invited_at = models.DateTimeField(null=True, blank=True, editable=False)
    enable_when_dns_verified = models.BooleanField(
        "enable automatically once DNS verifies", default=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    offboarded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # contact addresses are erased CONTACT_RETENTION after offboarding (offboarding.py)
    contacts_erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Staff edits, with old and new values (django-simple-history). Transitions are conditional
    # UPDATEs that write AuditEvents instead; the tenant page merges both into one timeline.
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        # Checked by the admin's actions and views; the staff roles (services/staff_roles.py)
        # grant them
        permissions = [
            ("enable_tenant", "Can enable tenants (send the upload invitation)"),
            ("suspend_tenant", "Can suspend and resume tenants"),
            ("issue_upload_link", "Can issue a new upload link"),
            ("check_dns", "Can check DNS now"),
            ("revoke_token", "Can revoke a tenant's security token"),
            ("export_timeline", "Can export a tenant's timeline as CSV"),
            ("change_live_settings", "Can change an invited or active tenant's settings"),
            ("move_calling_domain", "Can move a tenant to another calling domain"),
            ("offboard_tenant", "Can offboard a tenant (end its service)"),
            (
                "provision_tenant",
                "Can provision a tenant on its gateway (Provision now, Configured on the gateway)",
            ),
            ("adopt_gateway_objects", "Can adopt objects made by hand on a gateway"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                condition=~Q(status="offboarded"),
                name="tenant_name_unique_unless_offboarded",
                violation_error_message="A tenant with this name already exists.",
            )
        ]
        indexes = [models.Index(fields=["status", "status_changed_at"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.name = (self.name or "").strip()
        # Checked here too (not only by the constraint) because the constraint's condition reads
        # `status`, which no form edits, so form validation would skip it.
        clash = self.name_clash_message()
        if clash:
            raise ValidationError({"name": clash})
        try:
            self.teams_interop_domains = calling_domains.validate_teams_domains(
                self.teams_interop_domains
            )
        except ValidationError as exc:
            raise ValidationError({"teams_interop_domains": exc.messages}) from exc
        calling_domains.validate_access_scope(
            scope=self.access_scope, units=self.access_scope_units
        )

    def name_clash_message(self) -> str | None:
        """Why this name cannot be saved: another tenant (not offboarded) already has it."""
        if not self.name:
            return None
        # compared as the constraint compares (SQL LOWER), so the two never disagree
        namesakes = (
            Tenant.objects.exclude(status=TenantStatus.OFFBOARDED)
            .alias(lower_name=Lower("name"))
            .filter(lower_name=Lower(Value(self.name)))
        )
        if self.pk:
            namesakes = namesakes.exclude(pk=self.pk)
        namesake = namesakes.first()
        if namesake is None:
            return None
        return f"A tenant named {namesake} already exists. Choose another name."

    @property
    def token_upload_recipients(self) -> list[str]:
        return list(self.token_upload_contacts) or [self.main_contact_email]

    @property
    def service_notification_recipients(self) -> list[str]:
        return list(self.service_notification_contacts) or [self.main_contact_email]
