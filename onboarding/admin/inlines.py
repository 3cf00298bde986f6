"""The inlines on a tenant's page: its calling domains (with the rules that span them) and its
outbox."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from onboarding.admin.dns import domain_dns_state
from onboarding.admin.live_changes import CallingDomainForm
from onboarding.models import CallingDomain, OutboundEmail, Tenant
from onboarding.services import lifecycle, tenant_creation
from onboarding.services.lifecycle import Operation

# Calling domains inline ------------------------------------------------------------------------


class CallingDomainFormSet(BaseInlineFormSet):
    """Rules that span a tenant's calling domains, checked before anything is saved."""

    def clean(self) -> None:
        super().clean()
        kept = [
            form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if any(form.errors for form in self.forms):
            return
        domains = [form.instance for form in kept]
        tenant_creation.tenant_domains_check(self.instance, domains)
        tenant_creation.tenant_domains_check_across(self.instance, domains)


class CallingDomainInline(admin.TabularInline):
    model = CallingDomain
    form = CallingDomainForm
    formset = CallingDomainFormSet
    extra = 0
    min_num = 1
    fields = [
        "option",
        "domain",
        "meeting_id_length",
        "prefix",
        "sfb_additional_gateway",
        "dns_state",
        "ownership_code_of_own_domain",
    ]
    readonly_fields = ["dns_state", "ownership_code_of_own_domain"]
    # columns that mean something for own domains only (DNS checks, the TXT ownership code)
    own_domain_columns = ("dns_state", "ownership_code_of_own_domain")

    def get_fields(self, request: HttpRequest, obj: Tenant | None = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if obj is None or not obj.calling_domains.in_use().own().exists():
            fields = [f for f in fields if f not in self.own_domain_columns]
        return fields

    def get_queryset(self, request: HttpRequest) -> Any:
        # retired domains stay in the record (audit trail) but are no longer edited here
        return super().get_queryset(request).filter(retired_at__isnull=True)

    def get_extra(self, request: HttpRequest, obj: Tenant | None = None, **kwargs: Any) -> int:
        return 0 if obj else 1

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        # Removing a domain from a live tenant would cut off its invitations; that is a
        # separate, guarded operation. Mistakes can be removed before the tenant is invited.
        if obj is not None and not lifecycle.is_allowed(
            Operation.EDIT_DOMAINS_IN_PLACE, obj.status
        ):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="DNS")
    def dns_state(self, calling_domain: CallingDomain) -> str:
        if not calling_domain.pk or not calling_domain.needs_dns:
            return ""
        state = domain_dns_state(calling_domain)
        if calling_domain.is_awaiting_switch:
            return f"{state}; waiting for the switch"
        return state

    @admin.display(description="Ownership code (TXT)")
    def ownership_code_of_own_domain(self, calling_domain: CallingDomain) -> str:
        return calling_domain.ownership_code if calling_domain.needs_dns else ""


class OutboundEmailInline(admin.TabularInline):
    """The tenant's outbox, newest first; read-only (send again from the outbox page)."""

    model = OutboundEmail
    extra = 0
    can_delete = False
    show_change_link = True
    fields = (
        "kind",
        "recipients_display",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "created_at",
    )
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    verbose_name = "email"
    verbose_name_plural = "emails"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Recipients")
    def recipients_display(self, row: OutboundEmail) -> str:
        return ", ".join(row.recipients)
