"""The gateway side of the tenant page: what the gateway holds for the tenant and why not yet,
"Provision now", "Configured on the gateway" (manual gateways) and "Adopt existing objects"
(Infinity gateways taken over from manual provisioning)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from onboarding.admin.common import TenantAdminMixinBase, staff_actor, user_may
from onboarding.gateways import adoption, nodes
from onboarding.gateways.infinity_client import InfinityError
from onboarding.models import ProvisioningMode, ProvisioningState, Tenant, TenantProvisioning
from onboarding.services import provisioning, provisioning_requests
from onboarding.services.audit import TransitionRefused

ADOPTION_TEMPLATE = "admin/onboarding/tenant/adopt_confirmation.html"
STATE_WORDS = {
    ProvisioningState.IN_SYNC: "In sync",
    ProvisioningState.PENDING: "Pending",
    ProvisioningState.FAILED: "Failed",
    ProvisioningState.AWAITING_STAFF: "Awaiting staff",
}


class ProvisioningAdminMixin(TenantAdminMixinBase):
    """Mixed into TenantAdmin."""

    def has_provision_tenant_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "provision_tenant")

    def get_urls(self) -> list[URLPattern]:
        def view(function: Any) -> Any:
            return self.admin_site.admin_view(function)

        return [
            path(
                "<int:pk>/provision-now/",
                view(require_POST(self.provision_now_view)),
                name="onboarding_tenant_provision_now",
            ),
            path(
                "<int:pk>/gateway-configured/",
                view(require_POST(self.gateway_configured_view)),
                name="onboarding_tenant_gateway_configured",
            ),
            path(
                "<int:pk>/adopt-gateway-objects/",
                view(self.adopt_objects_view),
                name="onboarding_tenant_adopt_objects",
            ),
            *super().get_urls(),
        ]

    # The panel --------------------------------------------------------------------------------

    @admin.display(description="Gateway")
    def provisioning_panel(self, tenant: Tenant) -> str:
        gateway = tenant.gateway
        row = TenantProvisioning.objects.filter(tenant=tenant).first()
        token = provisioning.current_token(tenant.pk)
        lines: list[str] = [format_html("Provisioning: {}", gateway.get_provisioning_display())]
        if token is not None:
            lines.append(
                format_html(
                    "Has the current token since {} UTC",
                    f"{token.gateway_has_token_at:%Y-%m-%d %H:%M}",
                )
                if token.gateway_has_token_at
                else mark_safe("<strong>Does not have the current token yet</strong>")
            )
        if row is not None:
            lines.append(
                format_html(
                    '<span class="provisioning-state provisioning-{}">{}</span>{}',
                    row.state,
                    STATE_WORDS[ProvisioningState(row.state)],
                    f" since {row.synced_at:%Y-%m-%d %H:%M} UTC"
                    if row.state == ProvisioningState.IN_SYNC and row.synced_at
                    else "",
                )
            )
            if row.detail:
                lines.append(format_html('<pre class="provisioning-detail">{}</pre>', row.detail))
            if row.drift_repaired_at:
                lines.append(
                    format_html(
                        "Drift repaired at {} UTC (see the timeline)",
                        f"{row.drift_repaired_at:%Y-%m-%d %H:%M}",
                    )
                )
        if gateway.provisioning == ProvisioningMode.INFINITY:
            lines.append(
                "The node never shows a token's value: a value changed by hand on the node "
                "cannot be seen here. The portal sends the value again whenever the customer's "
                "token changes, and “Provision now” resends it."
            )
            if gateway.provisioning_stopped_at:
                lines.append(
                    format_html(
                        "<strong>The gateway is stopped:</strong> {}",
                        gateway.provisioning_stop_reason,
                    )
                )
        buttons = self._provisioning_buttons(tenant)
        return format_html(
            '<div class="provisioning-panel">{}<p class="provisioning-buttons">{}</p></div>',
            format_html_join("", "<p>{}</p>", ((line,) for line in lines)),
            buttons,
        )

    def _provisioning_buttons(self, tenant: Tenant) -> str:
        mode = tenant.gateway.provisioning
        buttons = [
            (
                "onboarding_tenant_provision_now",
                "_provision_now",
                "Provision now",
            )
        ]
        if mode == ProvisioningMode.MANUAL:
            buttons.append(
                (
                    "onboarding_tenant_gateway_configured",
                    "_gateway_configured",
                    "Configured on the gateway",
                )
            )
        html = format_html_join(
            " ",
            '<button type="submit" class="button" formaction="{}" formnovalidate name="{}">{}'
            "</button>",
            (
                (reverse(f"admin:{url}", args=[tenant.pk]), name, label)
                for url, name, label in buttons
            ),
        )
        if mode == ProvisioningMode.INFINITY:
            html = format_html(
                '{} <a class="button" href="{}">Adopt existing objects…</a>',
                html,
                reverse("admin:onboarding_tenant_adopt_objects", args=[tenant.pk]),
            )
        return html

    # The buttons ------------------------------------------------------------------------------

    def _back(self, pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:onboarding_tenant_change", args=[pk]))

    def provision_now_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        tenant = get_object_or_404(Tenant.objects.select_related("gateway"), pk=pk)
        if not self.has_provision_tenant_permission(request):
            self.message_user(request, "You may not provision tenants.", messages.ERROR)
            return self._back(pk)
        if nodes.gateway_resume(tenant.gateway):
            self.message_user(
                request,
                f"{tenant.gateway.name} resumes: provisioning is tried again.",
                messages.INFO,
            )
        provisioning_request_now(tenant)
        self.message_user(
            request,
            f"{tenant.name} is being provisioned on {tenant.gateway.name}; reload in a moment to "
            "see the outcome.",
            messages.SUCCESS,
        )
        return self._back(pk)

    def gateway_configured_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        tenant = get_object_or_404(Tenant, pk=pk)
        if not self.has_provision_tenant_permission(request):
            self.message_user(
                request,
                "Only onboarding staff may confirm a gateway's configuration.",
                messages.ERROR,
            )
            return self._back(pk)
        try:
            provisioning.manual_configured_confirm(tenant=tenant, actor=staff_actor(request))
        except TransitionRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return self._back(pk)
        self.message_user(
            request,
            f"Recorded: {tenant.gateway.name} holds what {tenant.name} needs. Any email that "
            "waited for it is on its way.",
            messages.SUCCESS,
        )
        return self._back(pk)

    def adopt_objects_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        tenant = get_object_or_404(Tenant.objects.select_related("gateway"), pk=pk)
        if not user_may(request, "adopt_gateway_objects"):
            self.message_user(
                request, "Only administrators may adopt objects on a gateway.", messages.ERROR
            )
            return self._back(pk)
        try:
            plan = adoption.adoption_plan(tenant)
            if request.method == "POST" and request.POST.get("confirm") == "yes":
                done = adoption.objects_adopt(tenant=tenant, plan=plan, actor=staff_actor(request))
                self.message_user(request, "Adopted: " + "; ".join(done) + ".", messages.SUCCESS)
                return self._back(pk)
        except TransitionRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return self._back(pk)
        except InfinityError as exc:
            self.message_user(
                request, nodes.in_plain_words(exc) + " Nothing was changed.", messages.ERROR
            )
            return self._back(pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adopt objects on {tenant.gateway.name} for {tenant.name}?",
            "opts": Tenant._meta,
            "tenant": tenant,
            "plan": plan,
        }
        return TemplateResponse(request, ADOPTION_TEMPLATE, context)

    @admin.action(description="Provision now on the gateway", permissions=["provision_tenant"])
    def provision_tenants_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for tenant in queryset.select_related("gateway"):
            provisioning_request_now(tenant)
            count += 1
        self.message_user(request, f"{count} tenant(s) queued for provisioning.", messages.SUCCESS)


def provisioning_request_now(tenant: Tenant) -> None:
    provisioning_requests.provisioning_request(tenant.pk)
