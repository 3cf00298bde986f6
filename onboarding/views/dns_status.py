"""The customer's DNS status page: what to publish, what we see, and what to fix.

Behind its own read-only signed link (from the DNS instructions email). GET shows; POST (rate
limited) checks the tenant's own domains again at once.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from onboarding.dns import sweep
from onboarding.dns.status_table import tenant_own_domains
from onboarding.models import TenantStatus
from onboarding.services import invitations
from onboarding.views.upload import private_page


def _per_link(group: str, request: HttpRequest) -> str:
    return request.resolver_match.kwargs.get("signed", "") if request.resolver_match else ""


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=lambda g, r: settings.RATE_UPLOAD_PAGE_PER_IP, method=["GET", "HEAD"])
@ratelimit(key=_per_link, rate=lambda g, r: settings.RATE_DNS_CHECK_PER_LINK, method="POST")
def dns_status(request: HttpRequest, signed: str) -> HttpResponse:
    tenant = invitations.dns_status_tenant(signed)
    if tenant is None:
        return render(request, "onboarding/link_not_found.html", status=404)
    if tenant.status == TenantStatus.OFFBOARDED:
        return render(request, "onboarding/link_ended.html", {"tenant": tenant}, status=410)
    own_domains = tenant_own_domains(tenant)
    if request.method == "POST":
        sweep.calling_domains_check_now(own_domains)
        return redirect("dns-status", signed=signed)
    domains = [{"domain": cd, "rows": sweep.dns_status_table(cd)} for cd in own_domains]
    return render(
        request,
        "onboarding/dns_status.html",
        {"tenant": tenant, "domains": domains, "signed": signed},
    )
