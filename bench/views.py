"""The floors bench/web.py measures the portal's pages against.

Both go through the same middleware, settings and gunicorn workers as the portal's pages, so what
the portal adds on top of them is its own cost.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from onboarding.models import CallingDomain, Tenant
from onboarding.views.forms import UploadForm
from onboarding.views.upload import private_page


def framework_floor(request: HttpRequest) -> HttpResponse:
    """What Django itself costs: a short plain response."""
    return HttpResponse("ok", content_type="text/plain")


@private_page
def form_floor(request: HttpRequest) -> HttpResponse:
    """The upload form rendered as the upload page renders it (crispy-forms, the same base
    template, the CSRF token), for a calling domain like the benchmark tenant's, without one
    database query: the cheapest the upload page could be."""
    tenant = Tenant(name="Bench floor")
    calling_domains = [CallingDomain(tenant=tenant, option="onpexip", domain="floor")]
    form = UploadForm(calling_domains=calling_domains)
    return render(request, "bench/form_floor.html", {"tenant": tenant, "form": form})
