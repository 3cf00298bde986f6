"""What the customer types into Google Admin, per calling domain: one source for every email and
page that shows it, so the values can never differ between them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from onboarding.domain import calling_domains, domain_names
from onboarding.domain.calling_domains import AccessScope, CallingDomainOption, MeetingIdLength
from onboarding.models import CallingDomain, Tenant

# Google Admin's menu path, in the current console and in older ones (domain.md, "The journey").
GOOGLE_ADMIN_PATH = "Apps > Google Workspace > Google Meet > Interoperability tokens"
GOOGLE_ADMIN_PATH_OLDER = "Apps > Google Workspace > Google Meet > Gateways for Interoperability"
TOKEN_TYPE = "Pexip"  # noqa: S105 (the token type Google Admin lists, not a secret)
SUGGESTED_TOKEN_NAME = "PexipInterop"  # noqa: S105 (a label)


@dataclass(frozen=True)
class GoogleAdminValues:
    domain: str
    domain_display: str
    option_label: str
    meeting_id_length: str
    gateway_ip: str
    gateway_hostname: str
    prefix: str
    sfb_instruction: str
    sfb_hostname: str
    example_dial_string: str


def calling_domain_values(calling_domain: CallingDomain, tenant: Tenant) -> GoogleAdminValues:
    gateway = tenant.gateway
    short = calling_domain.meeting_id_length == MeetingIdLength.SHORT
    return GoogleAdminValues(
        domain=calling_domain.domain,
        domain_display=domain_names.display_domain(calling_domain.domain),
        option_label=CallingDomainOption(calling_domain.option).label,
        meeting_id_length="Short" if short else "Long",
        gateway_ip=gateway.ip_address,
        gateway_hostname=gateway.hostname,
        prefix=calling_domain.prefix if short else "",
        sfb_instruction=calling_domains.sfb_instruction(
            option=calling_domain.option,
            sfb_additional_gateway=calling_domain.sfb_additional_gateway,
        ),
        sfb_hostname=calling_domains.SFB_GATEWAY_HOSTNAME
        if calling_domain.sfb_additional_gateway
        else "",
        example_dial_string=calling_domains.example_dial_string(
            domain=calling_domain.domain,
            meeting_id_length=calling_domain.meeting_id_length,
            prefix=calling_domain.prefix,
        ),
    )


def tenant_values(
    tenant: Tenant, domains: list[CallingDomain] | None = None
) -> list[GoogleAdminValues]:
    """The values for each customer-facing calling domain (`domains`, when the caller has just
    read them)."""
    if domains is None:
        domains = list(tenant.calling_domains.customer_facing().select_related(None))
    return [calling_domain_values(d, tenant) for d in domains]


def values_html(values: Sequence[GoogleAdminValues]) -> SafeString:
    """The upload page's block of values to enter, one card per calling domain.

    Rendered once per distinct set of values in each process (about a third of what the page
    adds to rendering its form: bench/web.py): it is a function of the values alone, which carry
    nothing secret. With DEBUG on it is rendered every time, so template edits show at once.
    """
    if settings.DEBUG:
        return _values_html(tuple(values))
    return _values_html_cached(tuple(values))


def _values_html(values: tuple[GoogleAdminValues, ...]) -> SafeString:
    # an autoescaping template's output is a SafeString already
    return render_to_string("onboarding/_values.html", {"values": values})


_values_html_cached = functools.lru_cache(maxsize=512)(_values_html)


def access_scope_advice(tenant: Tenant) -> str:
    if tenant.access_scope == AccessScope.SELECTED and tenant.access_scope_units:
        units = ", ".join(tenant.access_scope_units)
        return (
            f"Interoperability is meant for these organisational units or groups only: {units}. "
            "Set up that restriction first, before you tick 'Allow interoperability with other "
            "systems', so it is never briefly open to everyone."
        )
    return "Interoperability is meant for your whole organisation."
