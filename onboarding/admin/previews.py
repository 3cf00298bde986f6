"""Every email a tenant can receive, previewed for staff from the tenant's page."""

from __future__ import annotations

from typing import Any

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from onboarding.admin.common import TenantAdminMixinBase
from onboarding.mail import previews
from onboarding.models import Tenant
from onboarding.services import changes


class EmailPreviewAdminMixin(TenantAdminMixinBase):
    """Mixed into TenantAdmin: a preview page per tenant and a link to it."""

    def get_urls(self) -> list[Any]:
        # the email HTML needs inline style attributes: the one relaxation of the admin's CSP,
        # listed with its reason in settings.ADMIN_CSP_RELAXATIONS
        relaxed = csp_update(settings.ADMIN_CSP_RELAXATIONS["email_previews"])
        preview_url = path(
            "<int:tenant_id>/emails/",
            # django-csp types its decorators for views that take the request alone
            self.admin_site.admin_view(relaxed(self.email_previews_view)),  # type: ignore[arg-type]
            name="onboarding_tenant_email_previews",
        )
        return [preview_url, *super().get_urls()]

    def email_previews_view(self, request: HttpRequest, tenant_id: int) -> TemplateResponse:
        tenant = get_object_or_404(Tenant, pk=tenant_id)
        if not self.has_view_permission(request, tenant):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"Email previews for {tenant.name}",
            "tenant": tenant,
            "previews": previews.tenant_previews(
                tenant, sample_changes=changes.sample_changes(tenant)
            ),
        }
        return TemplateResponse(request, "admin/onboarding/tenant/email_previews.html", context)

    @admin.display(description="Emails")
    def email_previews_link(self, tenant: Tenant) -> str:
        url = reverse("admin:onboarding_tenant_email_previews", args=[tenant.pk])
        return format_html('<a href="{}">Preview every email this tenant can receive</a>', url)
