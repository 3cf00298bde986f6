"""Rows every database needs, kept by a post_migrate handler (which also runs after the test
database is flushed)."""

from typing import Any

from django.conf import settings

from onboarding.models import Gateway


def ensure_reference_data(using: str = "default", **_kwargs: Any) -> None:
    if Gateway.objects.using(using).filter(is_default=True).exists():
        return
    Gateway.objects.using(using).create(
        name=settings.DEFAULT_GATEWAY_NAME,
        ip_address=settings.DEFAULT_GATEWAY_IP,
        hostname=settings.DEFAULT_GATEWAY_HOSTNAME,
        sip_host=settings.DEFAULT_GATEWAY_SIP_HOST,
        is_default=True,
    )
