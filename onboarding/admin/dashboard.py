"""The staff dashboard page, served by the tenant admin so it shares the admin site's login,
2FA and permissions: anyone who may view tenants may see it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path

from onboarding.admin.common import TenantAdminMixinBase
from onboarding.selectors import dashboard


class DashboardAdminMixin(TenantAdminMixinBase):
    """Mixed into TenantAdmin: /admin/onboarding/tenant/dashboard/, linked from the index."""

    def get_urls(self) -> list[Any]:
        dashboard_url = path(
            "dashboard/",
            self.admin_site.admin_view(self.dashboard_view),
            name="onboarding_dashboard",
        )
        return [dashboard_url, *super().get_urls()]

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Staff dashboard",
            "dashboard": dashboard.dashboard_build(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/onboarding/dashboard.html", context)
