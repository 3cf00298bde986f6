"""The onboarding app: its signal wiring, and the system checks that refuse configuration no
deployment should keep."""

import ipaddress
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.checks import Tags, Warning, register
from django.db.models.signals import post_migrate

# RFC 5737 documentation ranges and RFC 2606 example names: fine for a demo, never for service.
DOCUMENTATION_NETWORKS = [
    ipaddress.ip_network(net) for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
]
EXAMPLE_SUFFIXES = ("example.com", "example.net", "example.org", "example", "invalid", "test")


def is_documentation_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in DOCUMENTATION_NETWORKS)


def is_example_hostname(hostname: str) -> bool:
    name = hostname.lower().rstrip(".")
    return any(name == s or name.endswith("." + s) for s in EXAMPLE_SUFFIXES)


def default_gateway_is_real(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    problems = []
    if is_documentation_address(settings.DEFAULT_GATEWAY_IP):
        problems.append(
            Warning(
                f"DEFAULT_GATEWAY_IP is {settings.DEFAULT_GATEWAY_IP}, a documentation address.",
                hint="Set DEFAULT_GATEWAY_IP to the gateway's real IPv4 address.",
                id="onboarding.W001",
            )
        )
    for name in ("DEFAULT_GATEWAY_HOSTNAME", "DEFAULT_GATEWAY_SIP_HOST"):
        value = getattr(settings, name)
        if value and is_example_hostname(value):
            problems.append(
                Warning(
                    f"{name} is {value}, an example name.",
                    hint=f"Set {name} to the gateway's real hostname.",
                    id="onboarding.W002",
                )
            )
    return problems


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = "Onboarding"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # imported here: they need the models, which are loaded only now
        from onboarding.infra.staff_sessions import record_sign_in
        from onboarding.services.reference_data import ensure_reference_data
        from onboarding.services.staff_roles import ensure_staff_roles

        register(default_gateway_is_real, Tags.security, deploy=True)
        post_migrate.connect(ensure_reference_data, sender=self)
        user_logged_in.connect(record_sign_in, dispatch_uid="onboarding.record_sign_in")
        # every app's post_migrate: the roles hold permissions of apps migrated after this one
        post_migrate.connect(ensure_staff_roles, dispatch_uid="onboarding.ensure_staff_roles")
