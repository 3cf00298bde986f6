"""Gateways: their addresses, how the portal provisions them, "Test connection", their API keys
and a "History" page of who changed what. Every change goes through `services.changes`, as
`change_gateway` does."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from onboarding.admin.common import staff_actor
from onboarding.admin.gateway_api import GatewayApiKeyPanelMixin
from onboarding.gateways import nodes
from onboarding.infra import encryption
from onboarding.models import Gateway, ProvisioningMode
from onboarding.services import changes


class GatewayForm(forms.ModelForm):
    management_password = forms.CharField(
        label="Management password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown. Leave blank to keep the stored one.",
    )

    class Meta:
        model = Gateway
        fields = [
            "name",
            "ip_address",
            "hostname",
            "sip_host",
            "provisioning",
            "management_url",
            "management_username",
            "management_ca_bundle",
            "management_timeout",
            "routing_rule_priority",
        ]
        widgets = {"management_ca_bundle": forms.Textarea(attrs={"rows": 4, "cols": 70})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # a form posted without them (a script, an older page) keeps what is stored
        for name in ("provisioning", "management_timeout", "routing_rule_priority"):
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("provisioning", "management_timeout", "routing_rule_priority"):
            if cleaned.get(name) in (None, ""):
                cleaned[name] = getattr(self.instance, name)
        if (
            cleaned.get("provisioning") == ProvisioningMode.INFINITY
            and not cleaned.get("management_password")
            and not self.instance.management_password_ciphertext
        ):
            self.add_error("management_password", "Give the management API's password.")
        return cleaned


@admin.register(Gateway)
class GatewayAdmin(GatewayApiKeyPanelMixin, SimpleHistoryAdmin):
    form = GatewayForm
    list_display = [
        "name",
        "ip_address",
        "hostname",
        "sip_host_display",
        "provisioning",
        "provisioning_health",
        "is_default",
    ]
    search_fields = ["name", "hostname", "ip_address"]
    readonly_fields = ["is_default", "created_at", "api_keys_panel", "provisioning_panel"]

    def get_fieldsets(self, request: HttpRequest, obj: Gateway | None = None) -> Any:
        address = ["name", "ip_address", "hostname", "sip_host", "is_default", "created_at"]
        provisioning = [
            "provisioning",
            "management_url",
            "management_username",
            "management_password",
            "management_ca_bundle",
            "management_timeout",
            "routing_rule_priority",
        ]
        if obj is not None:
            provisioning.append("provisioning_panel")
        sets: list[Any] = [
            (None, {"fields": address}),
            (
                "Provisioning",
                {
                    "fields": provisioning,
                    "description": "How the gateway gets each tenant's token. Pexip Infinity: "
                    "the portal creates a Google Meet access token and routing rules on the "
                    "management node. Feed: the gateway pulls it with an API key. Manual: "
                    "staff configure it and press “Configured on the gateway” on the tenant.",
                },
            ),
        ]
        if obj is not None:
            sets.append(("Provisioning feed", {"fields": ["api_keys_panel"]}))
        return sets

    def save_model(self, request: HttpRequest, obj: Gateway, form: Any, change: bool) -> None:
        password = form.cleaned_data.get("management_password") or ""
        if not change:
            if password:
                obj.management_password_ciphertext = encryption.encrypt(password)
            obj.save()
            return
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name != "management_password"
        }
        if password:
            fields["management_password"] = password
        told = changes.gateway_change(
            gateway=Gateway(pk=obj.pk), actor=staff_actor(request), fields=fields
        )
        if told:
            self.message_user(
                request,
                f"{len(told)} tenant(s) on this gateway are told what to change in Google Admin; "
                "their own domains' DNS is checked again.",
                messages.SUCCESS,
            )

    def get_urls(self) -> list[URLPattern]:
        test = self.admin_site.admin_view(require_POST(self.test_connection_view))
        return [
            path("<int:pk>/test-connection/", test, name="onboarding_gateway_test_connection"),
            *super().get_urls(),
        ]

    def test_connection_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        gateway = get_object_or_404(Gateway, pk=pk)
        back = reverse("admin:onboarding_gateway_change", args=[pk])
        if not self.has_view_permission(request, gateway):
            self.message_user(request, "You may not see this gateway.", messages.ERROR)
            return HttpResponseRedirect(back)
        if gateway.provisioning != ProvisioningMode.INFINITY:
            self.message_user(
                request,
                "Only a Pexip Infinity gateway has a connection to test; save the mode first.",
                messages.WARNING,
            )
            return HttpResponseRedirect(back)
        ok, text = nodes.connection_test(gateway)
        self.message_user(
            request,
            text + ("" if ok else " Nothing was changed."),
            messages.SUCCESS if ok else messages.ERROR,
        )
        return HttpResponseRedirect(back)

    @admin.display(description="Provisioning")
    def provisioning_panel(self, gateway: Gateway) -> str:
        if gateway.pk is None or gateway.provisioning != ProvisioningMode.INFINITY:
            return "—"
        url = reverse("admin:onboarding_gateway_test_connection", args=[gateway.pk])
        state = (
            format_html(
                '<strong class="provisioning-stopped">Stopped since {} UTC:</strong> {} '
                "Nothing is sent until the credentials change or staff press “Provision now” "
                "on a tenant.",
                f"{gateway.provisioning_stopped_at:%Y-%m-%d %H:%M}",
                gateway.provisioning_stop_reason,
            )
            if gateway.provisioning_stopped_at
            else "Working."
        )
        return format_html(
            '<p>{}</p><button type="submit" class="button" formaction="{}" formnovalidate '
            'name="_test_connection">Test connection</button> (tests the saved settings; '
            "save changes first; nothing is changed on the node)",
            state,
            url,
        )

    @admin.display(description="Provisioning state")
    def provisioning_health(self, gateway: Gateway) -> str:
        if gateway.provisioning != ProvisioningMode.INFINITY:
            return "—"
        return "stopped" if gateway.provisioning_stopped_at else "working"

    @admin.display(description="SIP/H.323 host")
    def sip_host_display(self, gateway: Gateway) -> str:
        return gateway.effective_sip_host

    def has_delete_permission(self, request: HttpRequest, obj: Gateway | None = None) -> bool:
        if obj is not None and (obj.is_default or obj.tenants.exists()):
            return False
        return super().has_delete_permission(request, obj)
