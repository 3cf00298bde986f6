"""System checks that refuse configuration no deployment should keep."""

import ipaddress
from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

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


@register(Tags.security, deploy=True)
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
