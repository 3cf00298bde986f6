"""Staff second-factor devices in the admin: who is enrolled and when a device was last used.

Nothing secret is shown (the TOTP key is stored encrypted, backup codes only as digests, and
neither field is listed) and nothing is added here: enrolment is `manage.py enrol_totp`, which
prints the secret once. Deleting a device (a lost phone) is allowed to those with the delete
permission.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from onboarding.models import StaffBackupCodeDevice, StaffTotpDevice

# a tuple: it stands for list_display, fields and readonly_fields alike, whose types differ
DEVICE_FIELDS: tuple[str, ...] = ("user", "name", "confirmed", "created_at", "last_used_at")


class DeviceAdmin(admin.ModelAdmin):
    list_display = DEVICE_FIELDS
    list_filter = ["confirmed"]
    search_fields = ["user__username", "user__email"]
    fields = DEVICE_FIELDS
    readonly_fields = DEVICE_FIELDS
    list_select_related = ["user"]
    ordering = ["user__username"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StaffTotpDevice)
class StaffTotpDeviceAdmin(DeviceAdmin):
    pass


@admin.register(StaffBackupCodeDevice)
class StaffBackupCodeDeviceAdmin(DeviceAdmin):
    list_display = (*DEVICE_FIELDS, "codes_left")
    fields = (*DEVICE_FIELDS, "codes_left")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaffBackupCodeDevice]:
        return super().get_queryset(request).annotate(codes_left_count=Count("codes"))

    @admin.display(description="codes left", ordering="codes_left_count")
    def codes_left(self, obj: StaffBackupCodeDevice) -> int:
        return obj.codes_left_count
