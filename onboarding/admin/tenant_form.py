"""The tenant's form in the admin, and the list's "deprecated setting" filter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from onboarding.admin.fields import EmailListField, LineListField
from onboarding.domain import calling_domains
from onboarding.models import CallingDomain, Gateway, Tenant


class TenantAdminForm(forms.ModelForm):
    token_upload_contacts = EmailListField(
        label="Token-upload contacts",
        help_text="Who receives the upload link, one address per line. Blank: the main contact.",
    )
    service_notification_contacts = EmailListField(
        label="Service-notification contacts",
        help_text="Who is told the service is ready, one address per line. Blank: the main "
        "contact.",
    )
    access_scope_units = LineListField(
        label="Organisational units or groups",
        help_text="Only when access is limited: one OU path or group address per line. Google "
        "cannot limit access to single users.",
    )
    teams_interop_domains = LineListField(
        label="Teams interop domains",
        help_text="Domains this tenant uses for Teams video interop, one per line. None may "
        "also be a Meet calling domain.",
    )

    class Meta:
        model = Tenant
        fields = [
            "name",
            "main_contact_email",
            "token_upload_contacts",
            "service_notification_contacts",
            "gateway",
            "access_scope",
            "access_scope_units",
            "teams_interop_domains",
            "enable_when_dns_verified",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk and "gateway" in self.fields:
            self.fields["gateway"].initial = Gateway.objects.filter(is_default=True).first()


class DeprecatedSettingFilter(admin.SimpleListFilter):
    title = "deprecated setting"
    parameter_name = "deprecated"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Has a deprecated setting"), ("no", "None")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        deprecated = tenants_with_deprecated_setting()
        if self.value() == "yes":
            return queryset.filter(pk__in=deprecated)
        if self.value() == "no":
            return queryset.exclude(pk__in=deprecated)
        return queryset


def tenants_with_deprecated_setting() -> QuerySet:
    return (
        CallingDomain.objects.in_use()
        .filter(meeting_id_length=calling_domains.MeetingIdLength.SHORT)
        .values("tenant_id")
    )
