"""The gateway side of the tenant page: what the gateway holds for the tenant and why not yet,
"Provision now", "Configured on the gateway" (manual gateways) and "Adopt existing objects"
(Infinity gateways taken over from manual provisioning)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

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
        adopt = self.admin_site.admin_view(self.adopt_objects_view)
        return [
            path(
                "<int:pk>/adopt-gateway-objects/",
                adopt,
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
        """ "Provision now" and "Configured on the gateway" are buttons at the top of the page
        (page_actions.py); adopting starts on a page of its own that shows the plan."""
        if tenant.gateway.provisioning != ProvisioningMode.INFINITY:
            return ""
        return format_html(
            '<a class="button" href="{}">Adopt existing objects…</a>',
            reverse("admin:onboarding_tenant_adopt_objects", args=[tenant.pk]),
        )

    # The buttons ------------------------------------------------------------------------------

    def _back(self, pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:onboarding_tenant_change", args=[pk]))

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
        """Also resumes a gateway stopped by refused credentials: staff say they fixed it."""
        count = 0
        for tenant in queryset.select_related("gateway"):
            if nodes.gateway_resume(tenant.gateway):
                self.message_user(
                    request,
                    f"{tenant.gateway.name} resumes: provisioning is tried again.",
                    messages.INFO,
                )
            provisioning_request_now(tenant)
            count += 1
        self.message_user(
            request,
            f"{count} tenant(s) are being provisioned; reload in a moment to see the outcome.",
            messages.SUCCESS,
        )

    @admin.action(description="Configured on the gateway", permissions=["provision_tenant"])
    def gateway_configured(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Staff configured a manual gateway by hand to what the tenant's page lists."""
        actor = staff_actor(request)
        for tenant in queryset:
            try:
                provisioning.manual_configured_confirm(tenant=tenant, actor=actor)
            except TransitionRefused as exc:
                self.message_user(request, exc.message, messages.ERROR)
                continue
            self.message_user(
                request,
                f"Recorded: {tenant.gateway.name} holds what {tenant.name} needs. Any email "
                "that waited for it is on its way.",
                messages.SUCCESS,
            )


def has_something_for_the_gateway(tenant: Tenant) -> bool:
    return tenant.status not in provisioning_requests.NOTHING_ON_THE_GATEWAY


def awaits_staff_on_a_manual_gateway(tenant: Tenant) -> bool:
    if tenant.gateway.provisioning != ProvisioningMode.MANUAL:
        return False
    row = TenantProvisioning.objects.filter(tenant=tenant).first()
    return row is not None and row.state == ProvisioningState.AWAITING_STAFF


def provisioning_request_now(tenant: Tenant) -> None:
    provisioning_requests.provisioning_request(tenant.pk)
