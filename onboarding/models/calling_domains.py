"""Calling domains: the domains in the dial-in addresses Google prints in invites."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from onboarding.domain import calling_domains
from onboarding.domain.calling_domains import CallingDomainOption, MeetingIdLength
from onboarding.domain.dns_records import ExpectedRecord, expected_records
from onboarding.models.tenants import Tenant, TenantStatus, new_ownership_code
from onboarding.models.unique_names import UniqueNameCheckedInClean

# Before the tenant is invited nobody has typed its calling domains into Google Admin, so staff
# may still correct their option and name in place.
TENANT_DOMAINS_EDITABLE_IN_PLACE = frozenset({TenantStatus.DRAFT, TenantStatus.DNS_PENDING})


# A move's new domain that waits beside the old one until staff switch.
AWAITING_SWITCH = Q(replaces__isnull=False, switched_at__isnull=True)
# The old side of a finished switch: a replacement of it has been switched to.
REPLACED_BY_A_SWITCH = Q(replacements__switched_at__isnull=False)


class CallingDomainQuerySet(models.QuerySet):
    def in_use(self) -> CallingDomainQuerySet:
        return self.filter(retired_at__isnull=True)

    def own(self) -> CallingDomainQuerySet:
        return self.filter(option=CallingDomainOption.OWN)

    def customer_facing(self) -> CallingDomainQuerySet:
        """The domains whose values the customer keeps in Google Admin: in use, not a move
        target still waiting for its switch, not the old side of a finished switch."""
        return self.in_use().exclude(AWAITING_SWITCH).exclude(REPLACED_BY_A_SWITCH)

    def awaiting_switch(self) -> CallingDomainQuerySet:
        return self.in_use().filter(AWAITING_SWITCH)

    def replaced_by_a_switch(self) -> CallingDomainQuerySet:
        return self.filter(REPLACED_BY_A_SWITCH).distinct()

    def dns_not_ready(self) -> CallingDomainQuerySet:
        """Own domains not verified yet, or whose records changed since (drift-flagged)."""
        return self.own().filter(Q(verified_at__isnull=True) | Q(drift_flagged_at__isnull=False))


class CallingDomain(UniqueNameCheckedInClean, models.Model):
    """A domain in the dial-in address Google prints in invites; each carries its own settings."""

    unique_name_field = "domain"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="calling_domains")
    option = models.CharField(max_length=10, choices=CallingDomainOption.choices)
    domain = models.CharField(
        max_length=253,
        blank=True,
        help_text="Stored in ASCII form. Shared: left blank (always gmeet.pexip.me). "
        "onpexip.com: the label, e.g. acme. Own: the full domain.",
    )
    meeting_id_length = models.CharField(
        "meeting ID length", max_length=5, choices=MeetingIdLength.choices, default="long"
    )
    prefix = models.CharField(
        max_length=4,
        blank=True,
        help_text="Short IDs only. Shared domain: allocated by the portal; leave blank.",
    )
    sfb_additional_gateway = models.BooleanField(
        "additional Skype for Business gateway", default=False
    )
    ownership_code = models.CharField(max_length=64, default=new_ownership_code, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # DNS checks of own domains (onboarding/dns/sweep.py): when the next one is due (null: none)
    next_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    # since when the domain waits for verification; drives the 7-day staff email
    dns_pending_since = models.DateTimeField(null=True, blank=True, editable=False)
    # checks since then that did not verify it; picks the backoff step
    dns_checks_unverified = models.PositiveIntegerField(default=0, editable=False)
    # definitive failures (missing/mismatch) of a verified domain since its last ok check
    dns_failures_in_a_row = models.PositiveSmallIntegerField(default=0, editable=False)
    # set when a verified domain's records disappeared or changed; cleared when they are back
    drift_flagged_at = models.DateTimeField(null=True, blank=True, editable=False)
    not_verified_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # set when the tenant is offboarded or staff retire the domain; frees the name for others
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A move to another calling domain (services/domain_moves.py): the new domain `replaces`
    # the old one and waits beside it until staff switch (`switched_at`); the old one keeps
    # working for the gateway until staff retire it.
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="replacements",
    )
    switched_at = models.DateTimeField(null=True, blank=True, editable=False)
    # the shared prefix this retired domain held, once its quarantine ended and the prefix
    # went to another tenant (prefixes.py); kept for the record
    released_prefix = models.CharField(max_length=4, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CallingDomainQuerySet.as_manager()
    # The ownership code is shown to the customer, so it is not a secret and is kept. The DNS
    # scheduler's bookkeeping is left out: it is not a change anybody made.
    history = HistoricalRecords(
        excluded_fields=[
            "next_check_at",
            "dns_checks_unverified",
            "dns_failures_in_a_row",
            "not_verified_notified_at",
        ]
    )

    class Meta:
        ordering = ["tenant_id", "created_at", "id"]
        constraints = [
            # The race-free part of prefix allocation: the database decides, not a read.
            models.UniqueConstraint(
                fields=["prefix"],
                condition=Q(option="shared") & ~Q(prefix=""),
                name="shared_prefix_unique",
                violation_error_message="This shared-domain prefix is already allocated.",
            ),
            models.UniqueConstraint(
                Lower("domain"),
                condition=Q(retired_at__isnull=True) & ~Q(option="shared"),
                name="calling_domain_one_owner",
                violation_error_message="This calling domain already belongs to another tenant.",
            ),
            models.CheckConstraint(
                condition=~Q(meeting_id_length=MeetingIdLength.LONG) | Q(prefix=""),
                name="long_ids_take_no_prefix",
            ),
            models.CheckConstraint(
                condition=~Q(option="shared") | Q(meeting_id_length="short"),
                name="shared_domain_short_ids_only",
            ),
        ]
        indexes = [
            # the DNS sweeper's "what is due" scan touches only scheduled domains
            models.Index(
                fields=["next_check_at"],
                condition=Q(next_check_at__isnull=False),
                name="calling_domain_dns_due",
            )
        ]

    def __str__(self) -> str:
        if self.option == CallingDomainOption.SHARED and self.prefix:
            return f"{self.domain} (prefix {self.prefix})"
        return self.domain or "(new calling domain)"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        try:
            self.domain = calling_domains.normalize_calling_domain(self.option, self.domain)
        except ValidationError as exc:
            errors["domain"] = exc.messages
        self.prefix = calling_domains.normalize_prefix(self.prefix)
        previous_prefix = None
        if self.pk and self.option == CallingDomainOption.SHARED:
            # Only a prefix the row held *as a shared domain* is fixed; a short-ID prefix from
            # another option is not an allocated one and must not lock the row out of switching.
            previous_prefix = (
                CallingDomain.objects.filter(pk=self.pk, option=CallingDomainOption.SHARED)
                .values_list("prefix", flat=True)
                .first()
            )
        try:
            self.rule_warnings = calling_domains.validate_meeting_settings(
                option=self.option,
                meeting_id_length=self.meeting_id_length,
                prefix=self.prefix,
                sfb_additional_gateway=self.sfb_additional_gateway,
                previous_prefix=previous_prefix,
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
        if not errors and self.pk and self.tenant_id:
            errors.update(self._live_edit_errors())
        if "domain" not in errors and self.domain:
            clash = self.domain_clash_message()
            if clash:
                errors["domain"] = [clash]
        if errors:
            raise ValidationError(errors)

    def _live_edit_errors(self) -> dict[str, list[str]]:
        before = (
            CallingDomain.objects.filter(pk=self.pk)
            .values("option", "domain", "tenant__status")
            .first()
        )
        if before is None or before["tenant__status"] in TENANT_DOMAINS_EDITABLE_IN_PLACE:
            return {}
        try:
            calling_domains.check_live_domain_edit(
                previous_option=before["option"],
                previous_domain=before["domain"],
                option=self.option,
                domain=self.domain,
            )
        except ValidationError as exc:
            return dict(exc.message_dict)
        return {}

    def domain_clash_message(self) -> str | None:
        """Why this domain cannot be saved: another tenant uses it."""
        owner = self.current_owner_of_domain()
        if owner is None:
            return None
        return (
            f"{self.domain} is already a calling domain of tenant {owner}. "
            "A calling domain belongs to one tenant."
        )

    def current_owner_of_domain(self) -> Tenant | None:
        """Another tenant that uses this (non-shared) calling domain, if any."""
        if self.option == CallingDomainOption.SHARED:
            return None
        others = (
            CallingDomain.objects.in_use()
            .exclude(option=CallingDomainOption.SHARED)
            .filter(domain__iexact=self.domain)
            .select_related("tenant")
        )
        if self.pk:
            others = others.exclude(pk=self.pk)
        other = others.first()
        return other.tenant if other else None

    @property
    def is_deprecated(self) -> bool:
        return bool(
            calling_domains.deprecation_warnings(
                option=self.option, meeting_id_length=self.meeting_id_length
            )
        )

    @property
    def needs_dns(self) -> bool:
        return calling_domains.needs_dns_verification(self.option)

    @property
    def is_dns_ready(self) -> bool:
        """The row-level twin of `dns_not_ready()`: no DNS needed, or verified and not flagged."""
        return not self.needs_dns or (
            self.verified_at is not None and self.drift_flagged_at is None
        )

    @property
    def is_awaiting_switch(self) -> bool:
        """The row-level twin of AWAITING_SWITCH."""
        return bool(self.replaces_id) and self.switched_at is None

    @property
    def is_replaced_by_a_switch(self) -> bool:
        """The row-level twin of REPLACED_BY_A_SWITCH (one query)."""
        return self.replacements.filter(switched_at__isnull=False).exists()

    def expected_records(self) -> list[ExpectedRecord]:
        """The records this domain must publish, pointing at its tenant's gateway."""
        return expected_records(
            domain=self.domain,
            sip_host=self.tenant.gateway.effective_sip_host,
            ownership_code=self.ownership_code,
        )


# "DNS verified, awaiting enable" (architecture.md): a DNS-pending tenant whose own domains in use
# are all verified. One rule in two forms, side by side: for a query over tenants and for a row.
DNS_VERIFIED_AWAITING_ENABLE = "DNS verified, awaiting enable"


def dns_verified_awaiting_enable() -> Q:
    """The condition on Tenant rows."""
    own_in_use = CallingDomain.objects.in_use().own().filter(tenant_id=OuterRef("pk"))
    return (
        Q(status=TenantStatus.DNS_PENDING)
        & Exists(own_in_use)
        & ~Exists(own_in_use.filter(verified_at__isnull=True))
    )


def is_dns_verified_awaiting_enable(status: str, domains: Iterable[CallingDomain]) -> bool:
    """The same for one tenant's status and calling domains (as read already)."""
    own_in_use = [d for d in domains if d.needs_dns and d.retired_at is None]
    return (
        status == TenantStatus.DNS_PENDING
        and bool(own_in_use)
        and all(d.verified_at for d in own_in_use)
    )
