from typing import Any

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    """What every customer page shows: the support contact (domain.md)."""
    return {"support_contact": settings.SUPPORT_CONTACT}
