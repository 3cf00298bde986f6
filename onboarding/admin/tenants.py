"""The staff side: tenants, their calling domains, gateways and the audit trail.

Every state change goes through `lifecycle.py`; every rule through `domain/calling_domains.py`
(via model and formset validation), so the admin cannot disagree with the management commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from onboarding.admin.common import (
    ActionPermissionMixin,
    RevalidateOnUniqueConflictMixin,
    staff_actor,
    user_may,
)
from onboarding.admin.dashboard import DashboardAdminMixin
from onboarding.admin.dns import check_dns_now, dns_attention, dns_table
from onboarding.admin.inlines import CallingDomainInline, OutboundEmailInline
from onboarding.admin.live_changes import LiveTenantAdminMixin, is_live
from onboarding.admin.page_actions import TenantPageActionsMixin
from onboarding.admin.previews import EmailPreviewAdminMixin
from onboarding.admin.provisioning import ProvisioningAdminMixin
from onboarding.admin.tenant_form import DeprecatedSettingFilter, TenantAdminForm
from onboarding.admin.timeline import TimelineAdminMixin
from onboarding.admin.tokens import TokenAdminMixin
from onboarding.domain import calling_domains, domain_names
from onboarding.domain.calling_domains import CallingDomainOption
from onboarding.models import (
    AuditAction,
    CallingDomain,
    Tenant,
)
from onboarding.services import audit, lifecycle, tenant_creation
from onboarding.services.audit import TransitionRefused
from onboarding.services.tenant_creation import UniqueConflict, tenant_save


@admin.register(Tenant)
class TenantAdmin(
    ActionPermissionMixin,
    RevalidateOnUniqueConflictMixin,
    TenantPageActionsMixin,
    LiveTenantAdminMixin,
    DashboardAdminMixin,
    TimelineAdminMixin,
    TokenAdminMixin,
    ProvisioningAdminMixin,
    EmailPreviewAdminMixin,
    admin.ModelAdmin,
):
    form = TenantAdminForm
    inlines = [CallingDomainInline, OutboundEmailInline]
    list_display = [
        "name",
        "status_display",
        "calling_domains_display",
        "gateway",
        "badges",
        dns_attention,
        "days_in_state",
    ]
    list_filter = [
        "status",
        ("calling_domains__option", admin.ChoicesFieldListFilter),
        DeprecatedSettingFilter,
        "gateway",
        ("provisioning__state", admin.ChoicesFieldListFilter),
    ]
    search_fields = [
        "name",
        "calling_domains__domain",
        "main_contact_email",
        "token_upload_contacts__icontains",
        "service_notification_contacts__icontains",
    ]
    list_select_related = ["gateway"]
    list_per_page = 50
    # A filtered list shows "N results" and a "show all" link instead of counting the whole
    # table a second time on every page view (bench/web.py).
    show_full_result_count = False
    readonly_fields = [
        "status_display",
        "badges",
        "status_changed_at",
        "created_at",
        "token_panel",
        "provisioning_panel",
        "email_previews_link",
        "dns_records",
        "audit_trail",
    ]
    actions = [
        "enable_tenants",
        "suspend_tenants",
        "resume_tenants",
        "issue_upload_links",
        "revoke_tokens",
        "provision_tenants_now",
        check_dns_now,
        "switch_calling_domains",
        "retire_replaced_domains",
        "offboard_tenants",
        "reinstate_tenants",
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Tenant | None = None) -> Any:
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [
            (
                None,
                {
                    "fields": [
                        "name",
                        "main_contact_email",
                        "token_upload_contacts",
                        "service_notification_contacts",
                        "gateway",
                    ]
                },
            ),
            (
                "Access and interop",
                {
                    "fields": [
                        "access_scope",
                        "access_scope_units",
                        "teams_interop_domains",
                        "enable_when_dns_verified",
                    ]
                },
            ),
        ]
        if obj is not None:
            fieldsets.insert(
                0,
                (
                    "State",
                    {"fields": ["status_display", "badges", "status_changed_at", "created_at"]},
                ),
            )
            fieldsets.append(("Security token", {"fields": ["token_panel"]}))
            fieldsets.append(("Gateway provisioning", {"fields": ["provisioning_panel"]}))
            fieldsets.append(("Emails", {"fields": ["email_previews_link"]}))
            if obj.calling_domains.in_use().own().exists():  # DNS means nothing otherwise
                fieldsets.append(("DNS", {"fields": ["dns_records"]}))
            fieldsets.append(("Timeline (newest first)", {"fields": ["audit_trail"]}))
        return fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("calling_domains")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # the custom permissions the actions name (Meta.permissions on Tenant)
    def has_enable_tenant_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "enable_tenant")

    def has_suspend_tenant_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "suspend_tenant")

    def has_check_dns_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "check_dns")

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        # Tenants are offboarded, never deleted: the record and its audit trail stay.
        return False

    # Columns ------------------------------------------------------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_display(self, tenant: Tenant) -> str:
        return lifecycle.status_label(tenant, list(tenant.calling_domains.all()))

    @admin.display(description="Calling domains")
    def calling_domains_display(self, tenant: Tenant) -> str:
        domains = [d for d in tenant.calling_domains.all() if d.retired_at is None]
        return format_html_join(
            mark_safe("<br>"),
            "{} <small>({}, {} IDs{}{})</small>",
            (
                (
                    domain_names.display_domain(d.domain),
                    CallingDomainOption(d.option).label.split(" (")[0],
                    d.meeting_id_length,
                    f", prefix {d.prefix}" if d.prefix else "",
                    ", SfB gateway" if d.sfb_additional_gateway else "",
                )
                for d in domains
            ),
        )

    @admin.display(description="Badges")
    def badges(self, tenant: Tenant) -> str:
        domains = [d for d in tenant.calling_domains.all() if d.retired_at is None]
        if any(d.is_deprecated for d in domains):
            return format_html(
                '<span class="deprecated-badge alert-badge" title="{}">deprecated setting</span>',
                "; ".join(
                    w.message
                    for d in domains
                    for w in calling_domains.deprecation_warnings(
                        option=d.option, meeting_id_length=d.meeting_id_length
                    )
                ),
            )
        return ""

    @admin.display(description="Days in state", ordering="status_changed_at")
    def days_in_state(self, tenant: Tenant) -> int:
        return (timezone.now() - tenant.status_changed_at).days

    @admin.display(description="DNS records")
    def dns_records(self, tenant: Tenant) -> str:
        return dns_table(tenant)

    # Saving -------------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        if not change:
            return  # created with its calling domains in save_related: the one creation path
        if is_live(obj):
            # saved by changes.tenant_settings_change in save_related, with the domains
            self.live_edit_collect_tenant(request, form)
            return
        tenant_save(obj)
        if form.changed_data:
            audit.audit_record(
                tenant=obj,
                action=AuditAction.CHANGED,
                actor=staff_actor(request),
                detail={"fields": ", ".join(form.changed_data)},
            )

    def get_inlines(self, request: HttpRequest, obj: Tenant | None) -> list[Any]:
        return [CallingDomainInline, OutboundEmailInline] if obj else [CallingDomainInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not CallingDomain:
            super().save_formset(request, form, formset, change)
            return
        if not change:
            return  # created with the tenant in save_related
        if is_live(form.instance):
            self.live_edit_collect_domains(request, formset)
            return
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            audit.audit_record(
                tenant=form.instance,
                action=AuditAction.CALLING_DOMAIN_REMOVED,
                actor=staff_actor(request),
                detail={"domain": deleted.domain},
            )
            deleted.delete()
        for calling_domain in instances:
            is_new = calling_domain.pk is None
            tenant_creation.calling_domain_save(calling_domain)
            if is_new:
                audit.audit_record(
                    tenant=form.instance,
                    action=AuditAction.CALLING_DOMAIN_ADDED,
                    actor=staff_actor(request),
                    detail={"domain": calling_domain.domain, "option": calling_domain.option},
                )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if not change:
            self._create(request, form, formsets)
            return
        super().save_related(request, form, formsets, change)
        tenant = form.instance
        if change and is_live(tenant):
            self.live_edit_apply(request, tenant)
        lifecycle.tenant_domains_changed(tenant, actor=staff_actor(request))
        # ticking "enable automatically" after DNS already verified enables it now
        lifecycle.tenant_dns_verified(tenant=tenant, actor=staff_actor(request))
        self._warn_deprecated(request, tenant)

    def _create(self, request: HttpRequest, form: Any, formsets: Any) -> None:
        """A new tenant and the calling domains of its inline, through the one creation path
        (tenant_creation.tenant_create_from), which the forms' validation already agreed with."""
        domains_formset = next(f for f in formsets if f.model is CallingDomain)
        domains = [
            domain_form.instance
            for domain_form in domains_formset.forms
            if domain_form.cleaned_data and not domain_form.cleaned_data.get("DELETE")
        ]
        tenant = form.instance
        for calling_domain in domains:
            calling_domain.tenant = tenant
        try:
            tenant_creation.tenant_create_from(
                tenant=tenant, domains=domains, actor=staff_actor(request)
            )
        except UniqueConflict:
            raise
        except ValidationError as changed_meanwhile:
            # The forms validated the same rules a moment ago, so another staff member saved a
            # clashing name or domain since: validate the forms again (the mixin), which shows
            # it as the usual form error.
            raise UniqueConflict(changed_meanwhile.messages) from changed_meanwhile
        # what formset.save() would have noted, for the admin's change message
        domains_formset.new_objects, domains_formset.changed_objects = domains, []
        domains_formset.deleted_objects = []
        self._warn_deprecated(request, tenant)

    def _warn_deprecated(self, request: HttpRequest, tenant: Tenant) -> None:
        shown: set[str] = set()
        for calling_domain in tenant.calling_domains.in_use():
            for warning in calling_domains.deprecation_warnings(
                option=calling_domain.option, meeting_id_length=calling_domain.meeting_id_length
            ):
                if warning.code not in shown:
                    shown.add(warning.code)
                    messages.warning(request, f"{calling_domain.domain}: {warning.message}")

    # Actions ------------------------------------------------------------------------------------

    def _run_transition(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        transition: Callable[..., Tenant],
        done: str,
    ) -> None:
        actor = staff_actor(request)
        for tenant in queryset:
            try:
                transition(tenant=tenant, actor=actor)
            except TransitionRefused as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
            else:
                self.message_user(request, f"{tenant.name} {done}.", messages.SUCCESS)

    @admin.action(
        description="Enable selected tenants (send the upload invitation)",
        permissions=["enable_tenant"],
    )
    def enable_tenants(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run_transition(request, queryset, lifecycle.tenant_enable, "is enabled")

    @admin.action(description="Suspend selected tenants", permissions=["suspend_tenant"])
    def suspend_tenants(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run_transition(request, queryset, lifecycle.tenant_suspend, "is suspended")

    @admin.action(description="Resume selected tenants", permissions=["suspend_tenant"])
    def resume_tenants(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run_transition(request, queryset, lifecycle.tenant_resume, "is resumed")
