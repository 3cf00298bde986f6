"""The customer's upload page, reached from the signed link in the emails.

GET never changes anything (email scanners fetch links). POST validates, then consumes the link
and stores the token in one transaction. Every outcome has its own page and status code, in the
precedence the architecture doc sets.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from onboarding.infra.http import client_ip
from onboarding.mail import instructions
from onboarding.models import CallingDomain
from onboarding.selectors import customer_status
from onboarding.services import invitations, tokens
from onboarding.services.audit import Actor, TransitionRefused
from onboarding.services.invitations import LinkCheck, LinkOutcome
from onboarding.views.forms import UploadForm

OUTCOME_TEMPLATES = {
    LinkOutcome.NOT_FOUND: "onboarding/link_not_found.html",
    LinkOutcome.USED: "onboarding/received.html",
    LinkOutcome.SUSPENDED: "onboarding/suspended.html",
    LinkOutcome.REVOKED: "onboarding/link_replaced.html",
    LinkOutcome.EXPIRED: "onboarding/link_expired.html",
    LinkOutcome.ENDED: "onboarding/link_ended.html",
}
# Outcomes from which the customer may ask for a new link (sent to the contacts on file).
NEW_LINK_OUTCOMES = frozenset({LinkOutcome.USED, LinkOutcome.REVOKED, LinkOutcome.EXPIRED})


def private_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Never cached, never leaked in a Referer: the URL itself is the credential."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        # not no-referrer: browsers then send `Origin: null` on the POST and CSRF refuses it
        response["Referrer-Policy"] = "same-origin"
        return response

    return wrapper


def _per_link(group: str, request: HttpRequest) -> str:
    return request.resolver_match.kwargs.get("signed", "") if request.resolver_match else ""


def _rate(name: str) -> Callable[[str, HttpRequest], str]:
    return lambda group, request: getattr(settings, name)


@private_page
@sensitive_post_parameters("token")
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=_rate("RATE_UPLOAD_PAGE_PER_IP"), method=["GET", "HEAD"])
@ratelimit(key="ip", rate=_rate("RATE_UPLOAD_POST_PER_IP"), method="POST")
@ratelimit(key=_per_link, rate=_rate("RATE_UPLOAD_POST_PER_LINK"), method="POST")
def upload(request: HttpRequest, signed: str) -> HttpResponse:
    check = invitations.invitation_check(signed)
    if check.outcome is not LinkOutcome.VALID:
        return render_outcome(request, check, signed)
    domains = check.calling_domains
    if request.method != "POST":
        return _upload_page(request, check, domains, UploadForm(calling_domains=domains))

    form = UploadForm(request.POST, calling_domains=domains)
    if not form.is_valid():
        return _upload_page(request, check, domains, form, status=400)
    assert check.invitation is not None  # every outcome but NOT_FOUND carries its invitation
    try:
        tokens.token_store(
            invitation=check.invitation,
            token=form.cleaned_data["token"],
            actor=Actor.customer(client_ip(request)),
        )
    except TransitionRefused:
        # a racing upload won, or the tenant changed meanwhile: show where things stand now
        return render_outcome(request, invitations.invitation_check(signed), signed)
    return redirect("upload", signed=signed)


@private_page
@require_POST
@ratelimit(key=_per_link, rate=_rate("RATE_NEW_LINK_PER_LINK"), method="POST")
@ratelimit(key="ip", rate=_rate("RATE_UPLOAD_POST_PER_IP"), method="POST")
def request_new_link(request: HttpRequest, signed: str) -> HttpResponse:
    """Send a new link to the tenant's token-upload contacts (never to a typed address)."""
    check = invitations.invitation_check(signed)
    if check.outcome is LinkOutcome.VALID:
        return redirect("upload", signed=signed)  # this link still works: nothing to replace
    if check.outcome not in NEW_LINK_OUTCOMES:
        return render_outcome(request, check, signed)
    assert check.invitation is not None  # every outcome but NOT_FOUND carries its invitation
    try:
        tokens.customer_link_request(
            invitation=check.invitation, actor=Actor.customer(client_ip(request))
        )
    except TransitionRefused as refusal:
        context = {**_base_context(check), "reason": refusal.message}
        status = 410 if isinstance(refusal, tokens.LinkTooOld) else 429
        return render(request, "onboarding/new_link_refused.html", context, status=status)
    return render(request, "onboarding/new_link_sent.html", _base_context(check), status=200)


def render_outcome(request: HttpRequest, check: LinkCheck, signed: str) -> HttpResponse:
    if check.outcome is LinkOutcome.VALID:
        return redirect("upload", signed=signed)
    context = _base_context(check) if check.outcome is not LinkOutcome.NOT_FOUND else {}
    context["signed"] = signed
    context["can_ask_for_new_link"] = check.outcome in NEW_LINK_OUTCOMES
    if check.outcome is LinkOutcome.USED:
        assert check.tenant is not None  # every outcome but NOT_FOUND carries its invitation
        context["status"] = customer_status.tenant_status_view(check.tenant)
    if check.outcome is LinkOutcome.REVOKED:
        assert check.tenant is not None
        context["newest_link_sent_at"] = invitations.newest_link_sent_at(check.tenant)
    return render(
        request, OUTCOME_TEMPLATES[check.outcome], context, status=check.outcome.http_status
    )


def _base_context(check: LinkCheck) -> dict[str, Any]:
    return {"tenant": check.tenant, "invitation": check.invitation}


def _upload_page(
    request: HttpRequest,
    check: LinkCheck,
    domains: list[CallingDomain],
    form: UploadForm,
    status: int = 200,
) -> HttpResponse:
    tenant = check.tenant
    assert tenant is not None  # the page is shown for a VALID link only
    values = [instructions.calling_domain_values(d, tenant) for d in domains]
    context = {
        **_base_context(check),
        **instructions.customer_context(tenant, values),
        "form": form,
        "values_html": instructions.values_html(values),
    }
    return render(request, "onboarding/upload.html", context, status=status)
