"""What the customer types into Google Admin, per calling domain: one source for every email and
page that shows it, so the values can never differ between them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from onboarding.domain import calling_domains, domain_names, google_admin
from onboarding.domain.calling_domains import AccessScope, CallingDomainOption, MeetingIdLength
from onboarding.models import CallingDomain, Tenant


@dataclass(frozen=True)
class GoogleAdminValues:
    domain: str
    domain_display: str
    option_label: str
    meeting_id_length: str
    meeting_id_choice: str  # Google Admin's radio label: "Use long meeting IDs"
    gateway_ip: str
    gateway_hostname: str
    prefix: str
    sfb_applies: bool
    sfb_instruction: str  # empty where SfB does not apply
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
        meeting_id_choice=google_admin.meeting_id_choice(short=short),
        gateway_ip=gateway.ip_address,
        gateway_hostname=gateway.hostname,
        prefix=calling_domain.prefix if short else "",
        sfb_applies=calling_domains.sfb_applies(
            option=calling_domain.option,
            sfb_additional_gateway=calling_domain.sfb_additional_gateway,
        ),
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


@dataclass(frozen=True)
class Steps:
    """The numbers of the customer's steps, in domain.md's order: limit access first (only when
    the scope is limited), then the values, then the token last, then the upload. Every email and
    page counts them from here, so "N steps" is always true."""

    limit_access: int | None
    enter_values: int
    create_token: int
    upload_token: int

    @property
    def count(self) -> int:
        return self.upload_token

    @property
    def in_google_admin(self) -> int:
        return self.create_token

    @property
    def count_in_words(self) -> str:
        return _NUMBER_WORDS[self.count]

    @property
    def in_google_admin_in_words(self) -> str:
        return _NUMBER_WORDS[self.in_google_admin]


_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def steps(*, scope_limited: bool) -> Steps:
    first = 2 if scope_limited else 1
    return Steps(
        limit_access=1 if scope_limited else None,
        enter_values=first,
        create_token=first + 1,
        upload_token=first + 2,
    )


def scope_limited(tenant: Tenant) -> bool:
    return tenant.access_scope == AccessScope.SELECTED and bool(tenant.access_scope_units)


def customer_context(tenant: Tenant, values: Sequence[GoogleAdminValues]) -> dict[str, Any]:
    """What every customer email and the upload page need to say where, in which order, and only
    what applies: Google's labels, the step numbers, the access scope, whether SfB concerns the
    tenant at all."""
    limited = scope_limited(tenant)
    return {
        "google": google_admin.LABELS,
        "steps": steps(scope_limited=limited),
        "scope_limited": limited,
        "scope_units": list(tenant.access_scope_units) if limited else [],
        "offers_sfb": any(v.sfb_applies for v in values),
        "asks_prefix": any(v.prefix for v in values),  # the upload form asks for it again
        # the older names, kept for the templates that only point at the tokens page
        "google_admin_path": google_admin.TOKENS_PATH,
        "google_admin_path_older": google_admin.OLDER_TOKENS_PATH,
        "token_type": google_admin.TOKEN_TYPE,
        "suggested_token_name": google_admin.SUGGESTED_TOKEN_NAME,
    }
