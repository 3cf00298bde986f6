"""The tenant page's timeline (staff changes and lifecycle events, newest first) and its CSV
export at an admin URL, for those with the `export_timeline` permission."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from onboarding.admin.common import TenantAdminMixinBase
from onboarding.models import Tenant
from onboarding.selectors import timeline

# How many entries the tenant page shows; the CSV holds them all.
TIMELINE_ON_PAGE = 100


class TimelineAdminMixin(TenantAdminMixinBase):
    """Mixed into TenantAdmin: the timeline panel and the CSV view."""

    def get_urls(self) -> list[Any]:
        csv_url = path(
            "<int:tenant_id>/timeline.csv",
            self.admin_site.admin_view(self.timeline_csv_view),
            name="onboarding_tenant_timeline_csv",
        )
        return [csv_url, *super().get_urls()]

    def timeline_csv_view(self, request: HttpRequest, tenant_id: int) -> HttpResponse:
        tenant = get_object_or_404(Tenant, pk=tenant_id)
        if not (
            self.has_view_permission(request, tenant)
            and request.user.has_perm("onboarding.export_timeline")
        ):
            raise PermissionDenied
        response = HttpResponse(
            timeline.timeline_csv(timeline.tenant_timeline(tenant)),
            content_type="text/csv; charset=utf-8",
        )
        filename = f"tenant-{tenant.pk}-timeline-{timezone.now():%Y%m%d-%H%M}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.display(description="Timeline")
    def audit_trail(self, tenant: Tenant) -> str:
        entries = timeline.tenant_timeline(tenant, limit=TIMELINE_ON_PAGE)
        rows = format_html_join(
            "",
            '<tr class="timeline-{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td></tr>",
            (
                (
                    entry.kind,
                    f"{entry.when:%Y-%m-%d %H:%M:%S}",
                    entry.who,
                    entry.subject,
                    entry.what,
                    format_html_join(
                        mark_safe("<br>"),
                        "{}",
                        ((change.display("→"),) for change in entry.changes),
                    ),
                    entry.ip_address,
                )
                for entry in entries
            ),
        )
        export = format_html(
            '<p><a class="timeline-export" href="{}">Export the whole timeline as CSV</a></p>',
            reverse("admin:onboarding_tenant_timeline_csv", args=[tenant.pk]),
        )
        return format_html(
            '{}<table class="audit-trail"><thead><tr><th>When (UTC)</th><th>Who</th>'
            "<th>What</th><th>Action</th><th>Changes</th><th>IP</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            export,
            rows or format_html('<tr><td colspan="6">Nothing recorded yet.</td></tr>'),
        )
