"""What the portal should hold on a Pexip Infinity Management Node for one tenant.

Pure: the caller passes in plain facts about the tenant and its calling domains, and gets back
the objects the node should hold (architecture.md, "Gateway provisioning (Pexip Infinity)"):

- one `gms_access_token` per tenant, named `<prefix>-<tenant id>` (a token object has no tag, so
  the name is how the portal recognises its own). Its value is not part of the desired state:
  the reconciliation decrypts it only to put it in a request body;
- one `gateway_routing_rule` per calling domain the customer may dial (own domains once
  verified), tagged `<prefix>-<tenant id>-<calling domain id>`, that turns the customer's dial
  strings into the Google Meet meeting ID and sends the call to Meet with the tenant's token.

The regexes follow Pexip's guide to routing calls into Google Meet: the rule matches the dialled
alias and the replace string leaves only the meeting ID (`\\1`). The node matches against the
parsed alias by default (`match_string_full` off: no URI scheme, no `;parameters`), but each
regex also tolerates a `sip:`/`sips:`/`h323:` scheme, a port and `;parameters` itself, so it
still holds for a node that hands it the full alias. Every regex is anchored at both ends, so a
longer alias (another domain that ends the same way, another prefix) is never matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from onboarding.domain.calling_domains import (
    LONG_MEETING_ID_DIGITS,
    SHARED_DOMAIN,
    CallingDomainOption,
    MeetingIdLength,
)

# The portal marks what it owns on a node by this prefix (token names, rule tags).
DEFAULT_OBJECT_PREFIX = "meet-portal"
_OBJECT_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,19}\Z")

# Field limits from the node's schema. Pexip's schema page gives a token name at most 32
# characters in some versions (its Terraform provider says 250): the names here stay under 32.
TOKEN_NAME_MAX_LENGTH = 32
RULE_TEXT_MAX_LENGTH = 250  # name, tag, description, match_string, replace_string
# "Rules are checked in ascending priority order until the first matching rule is found."
RULE_PRIORITY_MIN = 1
RULE_PRIORITY_MAX = 200

# Short meeting IDs: Google does not publish their length. The customer's emails show four
# digits after the prefix; anything shorter than a long ID is accepted, so a short-ID rule never
# takes a long ID.
SHORT_MEETING_ID_MIN_DIGITS = 4
SHORT_MEETING_ID_MAX_DIGITS = LONG_MEETING_ID_DIGITS - 1

# What the dialled alias may carry around `<id>@<domain>`: a URI scheme in front, a port and
# `;parameters` behind (`sip:1234567890123@acme.onpexip.com:5061;transport=tls`).
_SCHEME = r"(?:(?:sips?|h323):)?"
_TAIL = r"(?::[0-9]{1,5})?(?:;.*)?"
# Leaves the meeting ID, the first group.
REPLACE_STRING = r"\1"

# The fields every rule of the portal carries, whatever the domain.
_FIXED_RULE_FIELDS: Mapping[str, Any] = {
    "called_device_type": "gms_conference",
    "outgoing_protocol": "gms",
    "call_type": "video",
    "match_string_full": False,
    "match_incoming_calls": True,
    "match_outgoing_calls": False,
    "match_incoming_sip": True,
    "match_incoming_h323": True,
    "match_incoming_mssip": True,
    "match_incoming_webrtc": True,
    "match_incoming_teams": False,
    "match_incoming_only_if_registered": False,
}
RULE_DESCRIPTION = "Managed by the Meet onboarding portal: changes made here are undone."
# Every field the portal sets on a rule (`DesiredRule.body`): what drift is judged on.
MANAGED_RULE_FIELDS = (
    "name",
    "tag",
    "description",
    "priority",
    "enable",
    "match_string",
    "replace_string",
    "treat_as_trusted",
    *_FIXED_RULE_FIELDS,
    "gms_access_token",
)


class InfinityRuleError(ValueError):
    """A calling domain or setting the node cannot hold (staff must change something)."""


@dataclass(frozen=True)
class DialDomain:
    """One customer-facing calling domain, as the rules need it."""

    id: int
    domain: str  # the stored ASCII form; the shared option's is always SHARED_DOMAIN
    option: str
    meeting_id_length: str
    prefix: str
    verified: bool  # own domains: every DNS record ok; ignored for the other options


@dataclass(frozen=True)
class DesiredToken:
    name: str


@dataclass(frozen=True)
class DesiredRule:
    tag: str
    name: str
    domain: str
    match_string: str
    replace_string: str
    priority: int
    enable: bool
    treat_as_trusted: bool

    def fields(self) -> dict[str, Any]:
        """Every field the portal sets, but the token's URI (known once the token exists)."""
        return {
            "name": self.name,
            "tag": self.tag,
            "description": RULE_DESCRIPTION,
            "priority": self.priority,
            "enable": self.enable,
            "match_string": self.match_string,
            "replace_string": self.replace_string,
            "treat_as_trusted": self.treat_as_trusted,
            **_FIXED_RULE_FIELDS,
        }

    def body(self, token_uri: str) -> dict[str, Any]:
        """The JSON body that creates (or, PATCHed, repairs) this rule."""
        return {**self.fields(), "gms_access_token": token_uri}

    def differences(self, node_object: Mapping[str, Any], token_uri: str) -> dict[str, Any]:
        """The fields whose value on the node differs from this rule's, with the wanted value."""
        return {
            field: wanted
            for field, wanted in self.body(token_uri).items()
            if node_object.get(field) != wanted
        }


@dataclass(frozen=True)
class DesiredState:
    """What the node should hold for one tenant: nothing at all when `token` is None."""

    token: DesiredToken | None
    rules: tuple[DesiredRule, ...]


# Names and tags ---------------------------------------------------------------------------------


def check_object_prefix(object_prefix: str) -> str:
    if not _OBJECT_PREFIX.match(object_prefix):
        raise InfinityRuleError(
            "The object prefix is 1-20 lower-case letters, digits and hyphens, starting with a "
            f"letter; {object_prefix!r} is not."
        )
    return object_prefix


def token_name(tenant_id: int, *, object_prefix: str = DEFAULT_OBJECT_PREFIX) -> str:
    return f"{check_object_prefix(object_prefix)}-{tenant_id}"


def rule_tag(
    tenant_id: int, calling_domain_id: int, *, object_prefix: str = DEFAULT_OBJECT_PREFIX
) -> str:
    return f"{tenant_rule_tag_prefix(tenant_id, object_prefix=object_prefix)}{calling_domain_id}"


def tenant_rule_tag_prefix(tenant_id: int, *, object_prefix: str = DEFAULT_OBJECT_PREFIX) -> str:
    """Every tag of one tenant's rules starts with this; the trailing hyphen keeps tenant 1's
    prefix from also being tenant 12's."""
    return f"{check_object_prefix(object_prefix)}-{tenant_id}-"


def parse_token_name(name: str, *, object_prefix: str = DEFAULT_OBJECT_PREFIX) -> int | None:
    """The tenant id a token of the portal's belongs to; None for a name the portal did not
    give (an object the portal never changes)."""
    match = re.fullmatch(re.escape(check_object_prefix(object_prefix)) + r"-([1-9][0-9]*)", name)
    return int(match.group(1)) if match else None


def parse_rule_tag(
    tag: str, *, object_prefix: str = DEFAULT_OBJECT_PREFIX
) -> tuple[int, int] | None:
    """(tenant id, calling domain id) of a rule of the portal's; None for any other tag."""
    pattern = re.escape(check_object_prefix(object_prefix)) + r"-([1-9][0-9]*)-([1-9][0-9]*)"
    match = re.fullmatch(pattern, tag or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


# Dial strings -----------------------------------------------------------------------------------


def dial_domain_name(domain: DialDomain) -> str:
    return SHARED_DOMAIN if domain.option == CallingDomainOption.SHARED else domain.domain


def match_string(*, domain: str, meeting_id_length: str, prefix: str) -> str:
    """The regex that accepts exactly this calling domain's dial strings.

    Long IDs: 13 digits, no prefix. Short IDs: the prefix (if any) then the short ID; the group
    is the meeting ID alone, so the replace string strips the prefix. Domain names are
    case-insensitive, so the whole match is too.
    """
    if meeting_id_length == MeetingIdLength.LONG:
        if prefix:
            raise InfinityRuleError("Long meeting IDs take no prefix.")
        meeting_id = f"([0-9]{{{LONG_MEETING_ID_DIGITS}}})"
    elif meeting_id_length == MeetingIdLength.SHORT:
        if prefix and not re.fullmatch(r"[0-9]{1,4}", prefix):
            raise InfinityRuleError(f"A prefix is 1 to 4 digits; {prefix!r} is not.")
        meeting_id = (
            f"{prefix}([0-9]{{{SHORT_MEETING_ID_MIN_DIGITS},{SHORT_MEETING_ID_MAX_DIGITS}}})"
        )
    else:
        raise InfinityRuleError(f"Unknown meeting ID length {meeting_id_length!r}.")
    if not domain:
        raise InfinityRuleError("A calling domain has no name.")
    regex = f"(?i)^{_SCHEME}{meeting_id}@{re.escape(domain)}{_TAIL}$"
    if len(regex) > RULE_TEXT_MAX_LENGTH:
        raise InfinityRuleError(
            f"The calling domain {domain} is too long for a routing rule on the gateway: its "
            f"regex would be {len(regex)} characters, the node holds at most "
            f"{RULE_TEXT_MAX_LENGTH}."
        )
    return regex


def may_dial(domain: DialDomain) -> bool:
    """Own domains only once DNS verified them; shared and onpexip.com domains at once."""
    return domain.option != CallingDomainOption.OWN or domain.verified


# The desired state --------------------------------------------------------------------------------


def check_priority(priority: int) -> int:
    if not RULE_PRIORITY_MIN <= priority <= RULE_PRIORITY_MAX:
        raise InfinityRuleError(
            f"A routing rule's priority is {RULE_PRIORITY_MIN}-{RULE_PRIORITY_MAX}; "
            f"{priority} is not."
        )
    return priority


def desired_rule(
    tenant_id: int,
    domain: DialDomain,
    *,
    priority: int,
    enable: bool,
    treat_as_trusted: bool = True,
    object_prefix: str = DEFAULT_OBJECT_PREFIX,
) -> DesiredRule:
    name = dial_domain_name(domain)
    tag = rule_tag(tenant_id, domain.id, object_prefix=object_prefix)
    rule_name = f"{tag} {name}"
    if len(rule_name) > RULE_TEXT_MAX_LENGTH:
        raise InfinityRuleError(f"The calling domain {name} is too long for a rule's name.")
    return DesiredRule(
        tag=tag,
        name=rule_name,
        domain=name,
        match_string=match_string(
            domain=name, meeting_id_length=domain.meeting_id_length, prefix=domain.prefix
        ),
        replace_string=REPLACE_STRING,
        priority=check_priority(priority),
        enable=enable,
        treat_as_trusted=treat_as_trusted,
    )


def desired_state(
    tenant_id: int,
    domains: Iterable[DialDomain],
    *,
    serve: bool,
    enable: bool,
    priority: int,
    treat_as_trusted: bool = True,
    object_prefix: str = DEFAULT_OBJECT_PREFIX,
) -> DesiredState:
    """What the node should hold for one tenant.

    `serve`: the tenant has a current token the gateway should hold (active or suspended); when
    False the node should hold nothing for it (no token yet, revoked, offboarded).
    `enable`: False while the tenant is suspended: its rules stay, disabled, and so does the
    token. `domains`: its customer-facing calling domains (own ones are kept only once verified).
    """
    if not serve:
        return DesiredState(token=None, rules=())
    rules = tuple(
        desired_rule(
            tenant_id,
            domain,
            priority=priority,
            enable=enable,
            treat_as_trusted=treat_as_trusted,
            object_prefix=object_prefix,
        )
        for domain in sorted(domains, key=lambda d: d.id)
        if may_dial(domain)
    )
    name = token_name(tenant_id, object_prefix=object_prefix)
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise InfinityRuleError(f"The token name {name} is longer than the node allows.")
    return DesiredState(token=DesiredToken(name=name), rules=rules)
