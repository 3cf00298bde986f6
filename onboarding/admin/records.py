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

from onboarding.admin.common import (
    ActionPermissionMixin,
    ReadOnlyAdminMixin,
    staff_actor,
    user_may,
)
from onboarding.models import (
    AuditAction,
    AuditEvent,
    OutboundEmail,
)
from onboarding.services import audit, resend

# The audit log ---------------------------------------------------------------------------------


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
