"""The staff side: tenants, their calling domains, gateways and the audit trail.

Every state change goes through `services/` (the transition table in `lifecycle.py`); every
rule through `domain/` (via model and formset validation), so the admin cannot disagree with
the management commands.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from onboarding.admin.common import (
    ActionPermissionMixin,
    ReadOnlyAdminMixin,
    staff_actor,
    user_may,
)
from onboarding.admin.gateway_api import GatewayApiKeyPanelMixin
from onboarding.models import (
    AuditAction,
    AuditEvent,
    Gateway,
    OutboundEmail,
)
from onboarding.services import audit, changes, resend

# Gateways and the audit log ---------------------------------------------------------------------


@admin.register(Gateway)
class GatewayAdmin(GatewayApiKeyPanelMixin, SimpleHistoryAdmin):
    """Gateways with their API keys, and a "History" page of who changed what."""

    list_display = ["name", "ip_address", "hostname", "sip_host_display", "is_default"]
    search_fields = ["name", "hostname", "ip_address"]
    readonly_fields = ["is_default", "created_at", "api_keys_panel"]
    fields = ["name", "ip_address", "hostname", "sip_host", "is_default", "created_at"]

    def save_model(self, request: HttpRequest, obj: Gateway, form: Any, change: bool) -> None:
        if not change:
            obj.save()
            return
        told = changes.gateway_change(
            gateway=Gateway(pk=obj.pk),
            actor=staff_actor(request),
            fields={name: form.cleaned_data[name] for name in form.changed_data},
        )
        if told:
            self.message_user(
                request,
                f"{len(told)} tenant(s) on this gateway are told what to change in Google Admin; "
                "their own domains' DNS is checked again.",
                messages.SUCCESS,
            )

    def get_fields(self, request: HttpRequest, obj: Gateway | None = None) -> list[str]:
        return [*self.fields, "api_keys_panel"] if obj is not None else self.fields

    @admin.display(description="SIP/H.323 host")
    def sip_host_display(self, gateway: Gateway) -> str:
        return gateway.effective_sip_host

    def has_delete_permission(self, request: HttpRequest, obj: Gateway | None = None) -> bool:
        if obj is not None and (obj.is_default or obj.tenants.exists()):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "tenant",
        "action",
        "from_status",
        "to_status",
        "actor_label",
        "ip_address",
    ]
    list_filter = ["action", "actor_kind"]
    search_fields = ["tenant__name", "action", "actor_label"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ActionPermissionMixin, admin.ModelAdmin):
    """The outbox. The message itself is never shown: it is encrypted and may hold a link."""

    list_display = [
        "created_at",
        "kind",
        "tenant",
        "recipients_display",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "message_id",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["tenant__name", "recipients__icontains", "subject"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "tenant",
        "recipients_display",
        "subject",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "message_id",
        "idempotency_key",
    )
    readonly_fields = fields
    actions = ["send_again"]

    @admin.display(description="Recipients")
    def recipients_display(self, row: OutboundEmail) -> str:
        return ", ".join(row.recipients)

    def has_send_again_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "send_again")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # the page is a read-only view; the action below is the only way to act
        return (request.method in ("GET", "HEAD") or obj is None) and self.has_view_permission(
            request, obj
        )

    @admin.action(
        description="Send again (re-rendered from the tenant's current data)",
        permissions=["send_again"],
    )
    def send_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        for row in queryset.select_related("tenant"):
            try:
                again = resend.email_send_again(row)
            except ValueError as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                audit.audit_record(
                    tenant=row.tenant,
                    action=AuditAction.EMAIL_SENT_AGAIN,
                    actor=staff_actor(request),
                    detail={"kind": row.kind, "outbox_id": again.pk},
                )
                self.message_user(
                    request,
                    f"{row.get_kind_display()} for {row.tenant} queued again to "
                    f"{', '.join(again.recipients)}.",
                    messages.SUCCESS,
                )
