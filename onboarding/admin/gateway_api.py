"""Gateway API keys (issued here, shown once, revocable) and the audit of feed fetches.

The key is shown on the page that answers the "add" form, and nowhere else: not in a message
(messages sit in the session table until read), not in the audit trail, not in any list.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from onboarding.admin.common import ActionPermissionMixin, ReadOnlyAdminMixin, staff_actor
from onboarding.gateways import api_keys
from onboarding.models import Gateway, GatewayApiKey, GatewayFetch


class GatewayApiKeyForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None:
            api_keys.expiry_validate(expires_at=cleaned.get("expires_at"))
        return cleaned


@admin.register(GatewayApiKey)
class GatewayApiKeyAdmin(ActionPermissionMixin, admin.ModelAdmin):
    list_display = [
        "key_id",
        "gateway",
        "label",
        "usable",
        "created_at",
        "created_by",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["gateway"]
    search_fields = ["key_id", "label", "gateway__name"]
    readonly_fields = ["key_id", "created_at", "created_by", "revoked_at", "last_used_at"]
    actions = ["revoke_keys"]
    form = GatewayApiKeyForm

    def get_fields(self, request: HttpRequest, obj: GatewayApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("gateway", "label", "expires_at")
        return ("gateway", "key_id", "label", "expires_at", *self.readonly_fields[1:])

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # a key never moves to another gateway
        return [*self.readonly_fields, "gateway"] if obj is not None else []

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"gateway": request.GET.get("gateway")}

    @admin.display(boolean=True, description="works now")
    def usable(self, api_key: GatewayApiKey) -> bool:
        return api_key.is_usable()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked keys stay: the fetch audit points at them

    def save_model(self, request: HttpRequest, obj: GatewayApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = api_keys.api_key_issue(
            gateway=obj.gateway,
            actor=staff_actor(request),
            label=obj.label,
            expires_at=obj.expires_at,
        )
        obj.pk = issued.api_key.pk
        obj.key_id = issued.api_key.key_id
        # Kept on the request, never on this ModelAdmin (one instance serves every request):
        # response_add shows it once and it is gone with the request.
        request._issued_api_key = issued.key  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: GatewayApiKey, *args: Any) -> HttpResponse:
        response = TemplateResponse(
            request,
            "admin/onboarding/gatewayapikey/issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "api_key": obj,
                "key": request.__dict__.pop("_issued_api_key"),
                "title": f"API key for {obj.gateway}",
                "gateway_url": reverse("admin:onboarding_gateway_change", args=[obj.gateway_id]),
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(
        description="Revoke the selected keys (they stop working at once)", permissions=["change"]
    )
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet) -> None:
        revoked = sum(
            api_keys.api_key_revoke(api_key=key, actor=staff_actor(request))
            for key in queryset.select_related("gateway")
        )
        self.message_user(request, f"{revoked} key(s) revoked.", messages.SUCCESS)


@admin.register(GatewayFetch)
class GatewayFetchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "fetched_at",
        "gateway",
        "api_key",
        "status_code",
        "ip_address",
        "tokens_served",
    ]
    list_filter = ["gateway", "status_code"]
    list_select_related = ["gateway", "api_key"]
    date_hierarchy = "fetched_at"

    @admin.display(description="tokens served")
    def tokens_served(self, fetch: GatewayFetch) -> int:
        return len(fetch.tenant_ids)


class GatewayApiKeyPanelMixin:
    """Mixed into GatewayAdmin: the gateway's keys at a glance, and where to add one."""

    @admin.display(description="API keys for the provisioning feed")
    def api_keys_panel(self, gateway: Gateway) -> str:
        if gateway.pk is None:
            return "Save the gateway first."
        now = timezone.now()
        rows = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    key.key_id,
                    key.label,
                    "works" if key.is_usable(now) else "revoked or expired",
                    f"{key.expires_at:%Y-%m-%d %H:%M}" if key.expires_at else "never",
                    f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never",
                )
                for key in gateway.api_keys.all()
            ),
        )
        add_url = reverse("admin:onboarding_gatewayapikey_add") + f"?gateway={gateway.pk}"
        if not rows:
            return format_html(
                "No key. A gateway in feed mode needs one to fetch its tokens. "
                '<a href="{}">Add an API key</a>',
                add_url,
            )
        return format_html(
            '<table class="api-keys"><thead><tr><th>Key ID</th><th>Label</th><th>State</th>'
            "<th>Expires</th><th>Last used</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">Add an API key</a> (add the new one, deploy it, then revoke the old)'
            "</p>",
            rows,
            add_url,
        )
