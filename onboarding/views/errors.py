from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from onboarding.infra.http import bad_request_page


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """429 with a page a person can read (django-ratelimit's middleware calls this)."""
    response = render(request, "onboarding/rate_limited.html", status=429)
    response["Retry-After"] = "600"
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The portal's 400 page. Unlike Django's default it runs no CSRF check, which would read an
    unreadable body again inside the error handler."""
    return bad_request_page(request)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "onboarding/not_found.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "onboarding/server_error.html", status=500)
