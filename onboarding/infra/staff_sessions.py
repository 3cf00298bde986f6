"""Staff sessions end a fixed number of hours after sign-in (STAFF_SESSION_HOURS).

Django's own expiry slides: a session saved again (every admin message is stored in it) lives
another SESSION_COOKIE_AGE. For an admin that demands a second factor the factor must be asked
for again after a working day, however busy the day was, so the clock starts at sign-in and
nothing moves it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "staff_signed_in_at"


def record_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Connected to user_logged_in: when this session's clock starts."""
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = time.time()


def session_has_ended(request: HttpRequest, *, now: float | None = None) -> bool:
    signed_in_at = request.session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int | float):
        return True  # a session from before this rule, or tampered with: sign in again
    now = time.time() if now is None else now
    return now - signed_in_at >= settings.STAFF_SESSION_HOURS * 3600


class StaffSessionExpiryMiddleware:
    """Signs out a user whose session is older than STAFF_SESSION_HOURS (after the auth
    middleware, so request.user is known; the admin then asks them to sign in again)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and session_has_ended(request):
            logout(request)
            messages.info(
                request,
                f"You were signed out: staff sessions end {settings.STAFF_SESSION_HOURS} hours "
                "after sign-in. Sign in again with your password and code.",
            )
        return self.get_response(request)
