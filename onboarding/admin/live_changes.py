"""The tenant admin's live-tenant side: edits of an invited or active tenant go through
`services/changes.py` (so the customer is told what to change), and the actions that move, switch,
retire, offboard and reinstate. Thin callers: every rule is in services/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from onboarding.admin.common import TenantAdminMixinBase, staff_actor
from onboarding.domain import calling_domains
from onboarding.models import CallingDomain, Tenant, TenantStatus
from onboarding.services import changes, domain_moves, lifecycle, offboarding
from onboarding.services.audit import TransitionRefused
from onboarding.services.lifecycle import Operation
from onboarding.services.tenant_creation import CallingDomainSpec, UniqueConflict

PERMISSION_LIVE = "onboarding.change_live_settings"
PERMISSION_MOVE = "onboarding.move_calling_domain"
PERMISSION_OFFBOARD = "onboarding.offboard_tenant"
OFFBOARD_CONFIRMATION_TEMPLATE = "admin/onboarding/tenant/offboard_confirmation.html"


PREFIX_MAX_DIGITS = 4


class CallingDomainForm(forms.ModelForm):
    class Meta:
        model = CallingDomain
        fields = ["option", "domain", "meeting_id_length", "prefix", "sfb_additional_gateway"]

    class Media:
        # picking the shared domain in the browser sets short IDs at once (the server does the
        # same in clean(), so a page without JavaScript saves alike)
        js = ["onboarding/calling_domain_defaults.js"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # a browser cuts a pasted 5-digit prefix to 4 under maxlength, silently: without it the
        # whole value arrives and is refused with a message
        prefix = self.fields["prefix"]
        prefix.widget.attrs.pop("maxlength", None)
        prefix.validators = []  # the length is checked below, in words

    def clean_prefix(self) -> str:
        prefix: str = self.cleaned_data.get("prefix", "")
        if len(prefix) > PREFIX_MAX_DIGITS:
            raise forms.ValidationError(
                f"A meeting ID prefix is at most 4 digits; {prefix} has {len(prefix)}. Nothing "
                "was cut: check the value and type it again."
            )
        return prefix

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.instance.pk is None and "meeting_id_length" in cleaned:
            cleaned["meeting_id_length"] = calling_domains.meeting_id_length_for_new(
                option=cleaned.get("option", ""), chosen=cleaned["meeting_id_length"]
            )
        # only an existing row changes length; a new row with long IDs and a prefix is a typing
        # mistake, which the model's validation reports in the rules' words
        if self.instance.pk is not None and "prefix" in cleaned:
            cleaned["prefix"] = calling_domains.prefix_after_length_change(
                option=cleaned.get("option", ""),
                previous_length=self.initial.get("meeting_id_length", ""),
                new_length=cleaned.get("meeting_id_length", ""),
                prefix=cleaned["prefix"],
            )
        return cleaned


def is_live(tenant: Tenant | None) -> bool:
    return (
        tenant is not None
        and tenant.pk is not None
        and lifecycle.is_allowed(Operation.CHANGE_SETTINGS, tenant.status)
    )


class LiveTenantAdminMixin(TenantAdminMixinBase):
    """Mixed into TenantAdmin."""

    def has_change_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is not None and obj.status == TenantStatus.OFFBOARDED:
            return False  # the record stays as it was; reinstating starts a new tenant
        if allowed and is_live(obj):
            return request.user.has_perm(PERMISSION_LIVE)
        return allowed

    def has_offboard_tenant_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSION_OFFBOARD)

    def has_move_calling_domain_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSION_MOVE)

    # Edits of a live tenant -------------------------------------------------------------------

    def live_edit_collect_tenant(self, request: HttpRequest, form: Any) -> None:
        request._live_fields = {  # type: ignore[attr-defined]
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in changes.TENANT_FIELDS
        }

    def live_edit_collect_domains(self, request: HttpRequest, formset: Any) -> None:
        domains: dict[int, changes.DomainSettings] = {}
        new: list[CallingDomainSpec] = []
        for form in formset.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not form.has_changed():
                continue
            if form.instance.pk:
                domains[form.instance.pk] = changes.DomainSettings(
                    meeting_id_length=data["meeting_id_length"],
                    prefix=data.get("prefix", ""),
                    sfb_additional_gateway=data.get("sfb_additional_gateway", False),
                )
            else:
                new.append(
                    CallingDomainSpec(
                        option=data["option"],
                        domain=data.get("domain", ""),
                        meeting_id_length=data["meeting_id_length"],
                        prefix=data.get("prefix", ""),
                        sfb_additional_gateway=data.get("sfb_additional_gateway", False),
                    )
                )
        # nothing is saved here: the admin's change message reads these
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        request._live_domains = domains  # type: ignore[attr-defined]
        request._live_new_domains = new  # type: ignore[attr-defined]

    def live_edit_apply(self, request: HttpRequest, tenant: Tenant) -> None:
        actor = staff_actor(request)
        fields = getattr(request, "_live_fields", {})
        domains = getattr(request, "_live_domains", {})
        try:
            if fields or domains:
                result = changes.tenant_settings_change(
                    tenant=tenant, actor=actor, fields=fields, domains=domains
                )
                self._report_changes(request, tenant, result)
            for spec in getattr(request, "_live_new_domains", []):
                self._move_start(request, tenant, spec)
        except TransitionRefused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
        except UniqueConflict:
            raise  # the whole save is rolled back and validated again (admin/common.py)
        except ValidationError as invalid:
            self.message_user(request, " ".join(invalid.messages), messages.ERROR)

    def _report_changes(
        self, request: HttpRequest, tenant: Tenant, result: changes.ChangeResult
    ) -> None:
        told = result.customer_changes
        if told:
            listed = "; ".join(
                f"{c.what} {c.where}: {c.old} → {c.new}".replace("  ", " ") for c in told
            )
            text = f"{tenant.name}: the token-upload contacts are told to change {listed}."
        else:
            text = f"{tenant.name}: saved; nothing changes in Google Admin."
        self.message_user(request, text, messages.SUCCESS)
        for warning in result.warnings:
            self.message_user(request, warning.message, messages.WARNING)

    def _move_start(self, request: HttpRequest, tenant: Tenant, spec: CallingDomainSpec) -> None:
        facing = list(tenant.calling_domains.customer_facing())
        if len(facing) != 1:
            raise TransitionRefused(
                f"{tenant.name} uses {len(facing)} calling domains, so it is not clear which one "
                "the new domain replaces. Use `manage.py move_calling_domain --from DOMAIN`."
            )
        new = domain_moves.domain_move_start(
            tenant=tenant, replaces=facing[0], spec=spec, actor=staff_actor(request)
        )
        self.message_user(
            request,
            f"{new} is added beside {facing[0]}. Switch to it (action 'Switch to the new calling "
            "domain') once it is ready; the customer is told the new values then.",
            messages.SUCCESS,
        )

    # Actions ----------------------------------------------------------------------------------

    def _each(
        self,
        request: HttpRequest,
        items: Any,
        operation: Callable[[Any], Any],
        done: Callable[[Any], str],
    ) -> None:
        for item in items:
            try:
                operation(item)
            except TransitionRefused as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
            else:
                self.message_user(request, done(item), messages.SUCCESS)

    @admin.action(
        description="Offboard selected tenants (end the service)", permissions=["offboard_tenant"]
    )
    def offboard_tenants(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        # final and destructive: the first POST only shows what would happen, as Django's
        # "delete selected" does; the page's own form posts again with confirm=yes
        if request.POST.get("confirm") != "yes":
            return self._offboard_confirmation(request, queryset)
        actor = staff_actor(request)
        self._each(
            request,
            queryset,
            lambda t: offboarding.tenant_offboard(tenant=t, actor=actor),
            lambda t: f"{t.name} is offboarded; the service-ended email is on its way.",
        )
        return None

    def _offboard_confirmation(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse:
        to_offboard, skipped = offboarding.offboard_split(queryset.order_by("name"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Offboard these tenants?",
            "opts": Tenant._meta,
            "to_offboard": [
                (tenant, list(tenant.calling_domains.in_use())) for tenant in to_offboard
            ],
            "skipped": skipped,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "retention_days": settings.CONTACT_RETENTION.days,
            "quarantine_days": settings.PREFIX_QUARANTINE.days,
            "back_url": request.get_full_path(),
        }
        return TemplateResponse(request, OFFBOARD_CONFIRMATION_TEMPLATE, context)

    @admin.action(
        description="Reinstate selected offboarded tenants (a fresh onboarding)",
        permissions=["offboard_tenant"],
    )
    def reinstate_tenants(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = staff_actor(request)
        self._each(
            request,
            queryset,
            lambda t: offboarding.tenant_reinstate(tenant=t, actor=actor),
            lambda t: f"{t.name} starts a fresh onboarding as a new tenant in draft.",
        )

    @admin.action(
        description="Switch to the new calling domain (when it is ready)",
        permissions=["move_calling_domain"],
    )
    def switch_calling_domains(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = staff_actor(request)
        waiting = CallingDomain.objects.awaiting_switch().filter(tenant__in=queryset)
        if not waiting.exists():
            self.message_user(
                request, "No calling domain is waiting for a switch.", messages.WARNING
            )
        self._each(
            request,
            waiting.select_related("tenant"),
            lambda d: domain_moves.domain_switch(calling_domain=d, actor=actor),
            lambda d: f"{d.tenant.name} now uses {d}; the customer is told the new values.",
        )

    @admin.action(
        description="Retire replaced calling domains (after a switch)",
        permissions=["move_calling_domain"],
    )
    def retire_replaced_domains(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = staff_actor(request)
        replaced = CallingDomain.objects.in_use().replaced_by_a_switch().filter(tenant__in=queryset)
        if not replaced.exists():
            self.message_user(request, "No replaced calling domain to retire.", messages.WARNING)
        self._each(
            request,
            replaced.select_related("tenant"),
            lambda d: domain_moves.calling_domain_retire(calling_domain=d, actor=actor),
            lambda d: f"{d} of {d.tenant.name} is retired.",
        )
