"""The product's rulebook (../shared/docs/domain.md) as plain functions.

Domain-name validation lives in `domain_names.py`, the token's format in `token_format.py`.

Nothing here touches the database or the clock: callers pass in what a rule needs. Errors are
`ValidationError`s keyed by the field staff must change, worded so they know what to do; warnings
(deprecated but allowed settings) are returned, never raised, so the change is still saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models

from onboarding.domain.domain_names import (
    ONPEXIP_PARENT,
    normalize_domain_name,
    normalize_onpexip_subdomain,
    normalize_own_domain,
)
from onboarding.domain.google_admin import SFB_ADDITIONAL_GATEWAY

# The provider's shared calling domain: every shared-domain tenant uses this exact name and is told
# apart by its prefix.
SHARED_DOMAIN = "gmeet.pexip.me"
# The hostname Google Admin wants for the additional Skype for Business gateway.
SFB_GATEWAY_HOSTNAME = "pexip.me"
# Shared-domain prefixes: four digits, allocated by the portal, never chosen by staff.
SHARED_PREFIX_FIRST = 8000
SHARED_PREFIX_LAST = 8999
SHARED_PREFIX_POOL_SIZE = SHARED_PREFIX_LAST - SHARED_PREFIX_FIRST + 1
# Prefixes that staff choose for short IDs on other domains: 1 to 4 digits.
MAX_PREFIX_DIGITS = 4
# Long meeting IDs are 13 digits (the example dial string in domain.md).
LONG_MEETING_ID_DIGITS = 13

# \Z, not $: `$` also matches before a trailing newline.
_DIGITS = re.compile(r"^[0-9]+\Z")


class CallingDomainOption(models.TextChoices):
    SHARED = "shared", "Shared provider domain (gmeet.pexip.me)"
    ONPEXIP = "onpexip", "Own subdomain of onpexip.com"
    OWN = "own", "Customer's own domain"


class MeetingIdLength(models.TextChoices):
    SHORT = "short", "Short"
    LONG = "long", "Long"


class AccessScope(models.TextChoices):
    WHOLE_ORGANISATION = "whole", "Whole organisation"
    SELECTED = "selected", "Selected organisational units or groups"


@dataclass(frozen=True)
class RuleWarning:
    """A setting that is allowed but deprecated: saved, shown to staff, badged in the admin."""

    code: str
    message: str


# Calling domains ------------------------------------------------------------------------------


def normalize_calling_domain(option: str, raw: str) -> str:
    """The stored calling domain for an option, from what staff typed."""
    if option == CallingDomainOption.SHARED:
        typed = (raw or "").strip().rstrip(".").lower()
        if typed and typed != SHARED_DOMAIN:
            raise ValidationError(
                "The shared provider domain is always %(shared)s; leave the domain blank or "
                "choose another option for %(typed)s.",
                params={"shared": SHARED_DOMAIN, "typed": raw.strip()},
            )
        return SHARED_DOMAIN
    if option == CallingDomainOption.ONPEXIP:
        return normalize_onpexip_subdomain(raw)
    if option == CallingDomainOption.OWN:
        return normalize_own_domain(raw)
    raise ValidationError("Choose a calling-domain option.")


# Meeting IDs, prefixes and Skype for Business -------------------------------------------------


def takes_prefix(meeting_id_length: str) -> bool:
    """A meeting ID prefix goes only with short IDs; long IDs take none. (The database's
    constraint on calling domains holds the same rule.)"""
    return meeting_id_length == MeetingIdLength.SHORT


def normalize_prefix(raw: str | None) -> str:
    return (raw or "").strip()


def validate_meeting_settings(
    *,
    option: str,
    meeting_id_length: str,
    prefix: str,
    sfb_additional_gateway: bool,
    previous_prefix: str | None = None,
) -> list[RuleWarning]:
    """Check one calling domain's option, ID length, prefix and SfB choice against the table.

    Raises a ValidationError keyed by field with every problem found; returns the warnings.
    """
    errors: dict[str, list[str]] = {}
    prefix = normalize_prefix(prefix)

    if prefix and not _DIGITS.match(prefix):
        errors.setdefault("prefix", []).append("A prefix is digits only (0-9).")

    if option == CallingDomainOption.SHARED:
        if meeting_id_length != MeetingIdLength.SHORT:
            errors.setdefault("meeting_id_length", []).append(
                f"The shared domain {SHARED_DOMAIN} supports short meeting IDs only."
            )
        if sfb_additional_gateway:
            errors.setdefault("sfb_additional_gateway", []).append(
                f"{SHARED_DOMAIN} always generates a Skype for Business address; "
                "leave the additional Skype for Business gateway off."
            )
        if previous_prefix:
            if prefix != previous_prefix:
                errors.setdefault("prefix", []).append(
                    "A shared-domain prefix never changes once allocated; "
                    f"it stays {previous_prefix}."
                )
        elif prefix and "prefix" not in errors:
            # Staff never choose one: only the allocator's constraint keeps prefixes unique.
            errors.setdefault("prefix", []).append(
                f"Shared-domain prefixes are allocated by the portal from {SHARED_PREFIX_FIRST}-"
                f"{SHARED_PREFIX_LAST}; leave the prefix blank."
            )
    else:
        if prefix and not takes_prefix(meeting_id_length):
            errors.setdefault("prefix", []).append(
                "Long meeting IDs take no prefix: clear the prefix, or choose short meeting IDs."
            )
        elif prefix and "prefix" not in errors and len(prefix) > MAX_PREFIX_DIGITS:
            errors.setdefault("prefix", []).append(
                f"A prefix is 1 to {MAX_PREFIX_DIGITS} digits; this one has {len(prefix)}."
            )

    if meeting_id_length not in MeetingIdLength.values:
        errors.setdefault("meeting_id_length", []).append("Choose short or long meeting IDs.")
    if option not in CallingDomainOption.values:
        errors.setdefault("option", []).append("Choose a calling-domain option.")

    if errors:
        raise ValidationError(errors)
    return deprecation_warnings(option=option, meeting_id_length=meeting_id_length)


def prefix_after_length_change(
    *, option: str, previous_length: str, new_length: str, prefix: str
) -> str:
    """A live calling domain moving from short to long IDs drops its prefix (long IDs take
    none). The shared domain keeps it: it cannot move to long IDs, and says so elsewhere."""
    dropping = takes_prefix(previous_length) and not takes_prefix(new_length)
    if dropping and option != CallingDomainOption.SHARED:
        return ""
    return prefix


def deprecation_warnings(*, option: str, meeting_id_length: str) -> list[RuleWarning]:
    """Allowed but deprecated choices; each one earns the admin's "deprecated setting" badge."""
    if option == CallingDomainOption.SHARED:
        return [
            RuleWarning(
                "legacy-shared-domain",
                f"The shared domain {SHARED_DOMAIN} is a legacy option: it works, but new "
                f"tenants should prefer an {ONPEXIP_PARENT} subdomain or their own domain.",
            )
        ]
    if meeting_id_length == MeetingIdLength.SHORT:
        return [
            RuleWarning(
                "short-meeting-ids",
                "Short meeting IDs are deprecated by the provider; long IDs are recommended "
                "for this calling domain.",
            )
        ]
    return []


def shared_prefix_candidates() -> list[str]:
    return [str(number) for number in range(SHARED_PREFIX_FIRST, SHARED_PREFIX_LAST + 1)]


def default_meeting_id_length(option: str) -> str:
    """Shared is short only; elsewhere long is recommended."""
    return MeetingIdLength.SHORT if option == CallingDomainOption.SHARED else MeetingIdLength.LONG


def meeting_id_length_for_new(*, option: str, chosen: str) -> str:
    """A new calling domain's length: choosing the shared domain sets short IDs, its only
    length, so a form left at its default (long, recommended elsewhere) cannot fail on it.
    An existing domain never changes length this way: that is a live change the customer
    must follow (services/changes.py)."""
    if option == CallingDomainOption.SHARED:
        return MeetingIdLength.SHORT
    return chosen


def needs_dns_verification(option: str) -> bool:
    return option == CallingDomainOption.OWN


def sfb_applies(*, option: str, sfb_additional_gateway: bool) -> bool:
    """Whether Skype for Business concerns this calling domain at all: the shared domain always
    gives an SfB address (and its customers must leave Google's box unticked); other domains only
    when staff chose the additional SfB gateway. Elsewhere customers read nothing about SfB."""
    return option == CallingDomainOption.SHARED or sfb_additional_gateway


def sfb_instruction(*, option: str, sfb_additional_gateway: bool) -> str:
    """What the customer does with Google Admin's Skype for Business tick box; empty where SfB
    does not apply (domain.md, "What customers read")."""
    if option == CallingDomainOption.SHARED:
        return (
            f"Leave '{SFB_ADDITIONAL_GATEWAY}' unticked: "
            f"{SHARED_DOMAIN} already gives every meeting a Skype for Business address."
        )
    if sfb_additional_gateway:
        return f"Tick '{SFB_ADDITIONAL_GATEWAY}' and enter the hostname {SFB_GATEWAY_HOSTNAME}."
    return ""


def example_dial_string(*, domain: str, meeting_id_length: str, prefix: str) -> str:
    """An example address a video system dials, as Google will print it in invites."""
    if not takes_prefix(meeting_id_length):
        return f"{'1234567890123'[:LONG_MEETING_ID_DIGITS]}@{domain}"
    return f"{prefix}1234@{domain}"


# Whole-tenant rules ------------------------------------------------------------------------------


def check_teams_clash(*, calling_domains: Iterable[str], teams_domains: Iterable[str]) -> None:
    """A domain used for Teams video interop cannot also be a Meet calling domain."""
    clashes = sorted(set(calling_domains) & set(teams_domains))
    if clashes:
        raise ValidationError(
            "%(domains)s is recorded as a Teams video interop domain of this tenant, so it cannot "
            "also be its Meet calling domain. Remove it from one of the two lists.",
            params={"domains": ", ".join(clashes)},
        )


def check_live_domain_edit(
    *, previous_option: str, previous_domain: str, option: str, domain: str
) -> None:
    """A live tenant's calling domain keeps its option and name.

    The customer has typed them into Google Admin and old invitations dial them, so changing
    them in place would cut those off and (for the shared domain) free the prefix at once. A
    different calling domain is a move: add it beside the old one, switch, retire the old one.
    """
    if previous_option != option or previous_domain != domain:
        raise ValidationError(
            {
                "option": "An invited or active tenant keeps this calling domain and its option. "
                "To change them, move the tenant to another calling domain (add the new one "
                "beside it, switch when it is ready, then retire this one)."
            }
        )


def check_shared_stays_short(*, option: str, meeting_id_length: str) -> None:
    """Long meeting IDs need another calling domain: the shared domain is short-only."""
    if option == CallingDomainOption.SHARED and meeting_id_length == MeetingIdLength.LONG:
        raise ValidationError(
            {
                "meeting_id_length": f"The shared domain {SHARED_DOMAIN} supports short meeting "
                f"IDs only. To use long IDs, move the tenant to an {ONPEXIP_PARENT} subdomain or "
                "its own domain first."
            }
        )


def check_no_repeated_domains(calling_domains: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in calling_domains:
        if name in seen:
            raise ValidationError(
                "%(name)s is listed twice; a tenant has each calling domain once.",
                params={"name": name},
            )
        seen.add(name)


def validate_access_scope(*, scope: str, units: Iterable[str]) -> None:
    units = [unit for unit in units if unit.strip()]
    if scope == AccessScope.SELECTED and not units:
        raise ValidationError(
            {
                "access_scope_units": "List at least one organisational unit or group, or choose "
                "the whole organisation. Google cannot limit access to single users."
            }
        )
    if scope == AccessScope.WHOLE_ORGANISATION and units:
        raise ValidationError(
            {
                "access_scope_units": "Clear the list of units and groups, or choose 'Selected "
                "organisational units or groups'."
            }
        )


def validate_teams_domains(raw_domains: Iterable[str]) -> list[str]:
    return [normalize_domain_name(raw) for raw in raw_domains if raw.strip()]
