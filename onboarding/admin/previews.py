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
from django.utils import timezone
from django.utils.html import format_html

from onboarding.admin.common import TenantAdminMixinBase
from onboarding.dns.schedule import NOT_VERIFIED_WARNING_AFTER
from onboarding.dns.status_table import dns_status_table
from onboarding.mail import previews, staff_alerts
from onboarding.models import CallingDomain, Tenant
from onboarding.services import changes, lifecycle


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
                tenant,
                sample_changes=changes.sample_changes(tenant),
                tenant_status=lifecycle.status_label(tenant),
                dns_sample=dns_sample(tenant),
            ),
        }
        return TemplateResponse(request, "admin/onboarding/tenant/email_previews.html", context)

    @admin.display(description="Emails")
    def email_previews_link(self, tenant: Tenant) -> str:
        url = reverse("admin:onboarding_tenant_email_previews", args=[tenant.pk])
        return format_html('<a href="{}">Preview every email this tenant can receive</a>', url)


def dns_sample(tenant: Tenant) -> previews.DnsSample | None:
    """The tenant's first own domain in use with its latest verdicts, for the DNS emails."""
    calling_domain = CallingDomain.objects.in_use().own().filter(tenant=tenant).first()
    if calling_domain is None:
        return None
    rows = dns_status_table(calling_domain)
    checked = [row.checked_at for row in rows if row.checked_at]
    since = calling_domain.dns_pending_since or calling_domain.created_at
    return previews.DnsSample(
        calling_domain=calling_domain,
        records=[
            staff_alerts.AlertRecord(
                name=row.name,
                type=row.rdtype,
                expected=row.expected,
                verdict=row.verdict_label,
                found=row.found,
            )
            for row in rows
        ],
        checked_at=max(checked, default=None),
        # the alert goes out once a domain has waited this long, never sooner
        days_waiting=max((timezone.now() - since).days, NOT_VERIFIED_WARNING_AFTER.days),
    )
