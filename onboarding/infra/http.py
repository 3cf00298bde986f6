"""Request helpers shared by views, the admin and rate limits."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str:
    """The client's address: from the proxy's header when CLIENT_IP_HEADER names one.

    For a list header the right-most entry counts: it is the one our proxy appended, while the
    entries before it come from the client and can be forged. A value that is not an IP address
    is ignored rather than trusted.
    """
    if settings.CLIENT_IP_HEADER:
        candidate = request.META.get(settings.CLIENT_IP_HEADER, "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 (a value, not a bind)


class UnreadableBodyMiddleware:
    """Answers 400 with the portal's page when Django cannot read a POST's form body.

    Django refuses a form body in a non-UTF-8 charset, or a broken multipart one, each time
    `request.POST` is read. Left to Django, the CSRF check reads it and raises; the default 400
    view (and DEBUG's technical page) then reads it again and raises inside the error handler,
    which answers 500. Reading it once here, before any view middleware, keeps that out: the
    request never goes further. A urlencoded body of raw bytes that are not UTF-8 is refused too:
    Django would decode all of it as Latin-1, and a token would be stored as mojibake. Oversized
    bodies are still logged on `django.security.*`, as Django does: they can be an attack.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            try:
                request.POST  # noqa: B018 (parsed here so an unreadable body stops here)
            except SuspiciousOperation as exc:
                logging.getLogger(f"django.security.{exc.__class__.__name__}").error(
                    "%s", exc, extra={"status_code": 400}
                )
                return bad_request_page(request)
            except (BadRequest, MultiPartParserError, UnreadablePostError):
                return bad_request_page(request)
            if request.content_type == URLENCODED and not _is_utf8(request.body):
                return bad_request_page(request)
        return self.get_response(request)


URLENCODED = "application/x-www-form-urlencoded"


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def bad_request_page(request: HttpRequest) -> HttpResponse:
    response = render(request, "onboarding/bad_request.html", status=400)
    response["Cache-Control"] = "no-store"
    return response
