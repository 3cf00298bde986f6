"""Request helpers shared by views, the admin and rate limits."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


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
