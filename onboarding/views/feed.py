"""`GET /api/gateway/v1/config`: the provisioning feed a gateway pulls, and its OpenAPI text.

Parse the bearer key, authenticate, rate-limit per key, build the feed, answer 304 when the
gateway already has it, and audit every authenticated fetch. Every refusal is JSON.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit

from onboarding.gateways import api_keys, feed
from onboarding.infra.http import client_ip

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "api" / "openapi.yaml"


def _presented_key(request: HttpRequest) -> str:
    scheme, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def _per_key(group: str, request: HttpRequest) -> str:
    """Counted per key ID (no database needed); requests without a well-formed key per IP."""
    key_id = api_keys.key_id_of(_presented_key(request))
    return f"key:{key_id}" if key_id else f"ip:{client_ip(request)}"


def _error(status: int, code: str, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": code, "message": message}, status=status)
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _none_match_fails(etag: str, if_none_match: str) -> bool:
    """True when If-None-Match names the current representation. RFC 9110 (13.1.2) compares
    If-None-Match weakly: `W/"x"` matches `"x"`, and `*` matches whatever exists."""
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == opaque for tag in parse_etags(if_none_match))


@csrf_exempt  # no cookies here: the bearer key is the credential, so no CSRF to guard against
@require_GET
@ratelimit(key=_per_key, rate=lambda g, r: settings.RATE_GATEWAY_FEED_PER_KEY, block=False)
def gateway_config(request: HttpRequest) -> HttpResponse:
    if getattr(request, "limited", False):
        return _error(
            429,
            "rate_limited",
            "Too many requests for this key; try again later.",
            Retry_After="60",
        )
    api_key = api_keys.api_key_authenticate(_presented_key(request))
    if api_key is None:
        return _error(
            401,
            "unauthorized",
            "Send a valid gateway API key as 'Authorization: Bearer <key>'.",
            WWW_Authenticate='Bearer realm="gateway-config"',
        )
    current = feed.feed_build(api_key.gateway_id)
    ip = client_ip(request)
    if _none_match_fails(current.etag, request.META.get("HTTP_IF_NONE_MATCH", "")):
        feed.fetch_record(api_key=api_key, feed=current, status_code=304, ip_address=ip)
        response = HttpResponse(status=304)
    else:
        current = feed.feed_build(api_key.gateway_id, with_tokens=True)
        body = feed.feed_body(current)
        feed.fetch_record(api_key=api_key, feed=current, status_code=200, ip_address=ip)
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = current.etag
    # it carries tokens: no shared cache may keep it; the gateway revalidates with the ETag
    response["Cache-Control"] = "private, no-cache, no-store"
    patch_vary_headers(response, ["Authorization"])
    return response


@require_GET
def openapi_description(request: HttpRequest) -> HttpResponse:
    return HttpResponse(OPENAPI_PATH.read_bytes(), content_type="application/yaml")
