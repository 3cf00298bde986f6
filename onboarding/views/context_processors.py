from typing import Any

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    """What every customer page shows: the provider and the support contact (domain.md)."""
    return {"support_contact": settings.SUPPORT_CONTACT, "provider_name": settings.PROVIDER_NAME}
