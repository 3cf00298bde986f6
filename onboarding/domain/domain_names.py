"""Domain names as staff type them, turned into the one form everything stores and looks up.

Pure functions like the rest of the rulebook; `calling_domains.py` builds on them.
"""

from __future__ import annotations

import functools
import ipaddress
import re

import idna
from django.core.exceptions import ValidationError

# Customers without a domain of their own get exactly one label under this one.
ONPEXIP_PARENT = "onpexip.com"
# Own domains may be none of these, nor anything under them: they are the provider's.
RESERVED_DOMAINS = ("pexip.me", "gmeet.pexip.me", "onpexip.com")
# DNS limits (RFC 1035): a label is 1-63 octets, a name at most 253 characters in text form.
MAX_LABEL_LENGTH = 63
MAX_DOMAIN_LENGTH = 253

# \Z, not $: `$` also matches before a trailing newline, which let "acme\n" through.
_LDH_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?\Z")
_DIGITS = re.compile(r"^[0-9]+\Z")


def normalize_domain_name(raw: str) -> str:
    """Return the stored form of a DNS name: lower-case ASCII (A-labels), no trailing dot.

    Non-ASCII names are encoded with UTS 46 / IDNA 2008, so everything downstream sees one form.
    """
    name = (raw or "").strip()
    if not name:
        raise ValidationError("Enter a domain name, for example video.example.com.")
    if name.endswith("."):
        name = name[:-1]
    if _is_ip_literal(name):
        raise ValidationError(
            "%(name)s is an IP address; enter a domain name such as video.example.com.",
            params={"name": raw.strip()},
        )
    if any(ch.isspace() for ch in name):
        raise ValidationError("A domain name cannot contain spaces.")
    if name.isascii():
        ascii_name = name.lower()
    else:
        try:
            ascii_name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise ValidationError(
                "%(name)s is not a valid internationalised domain name (%(reason)s).",
                params={"name": name, "reason": exc},
            ) from exc
    _check_dns_name(ascii_name)
    return ascii_name


def _is_ip_literal(name: str) -> bool:
    candidate = name.strip("[]")
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def _check_dns_name(name: str) -> None:
    if len(name) > MAX_DOMAIN_LENGTH:
        raise ValidationError(
            "A domain name can be at most %(max)d characters; this one has %(count)d.",
            params={"max": MAX_DOMAIN_LENGTH, "count": len(name)},
        )
    labels = name.split(".")
    if len(labels) < 2:
        raise ValidationError("Enter a full domain name with a dot, such as example.com.")
    for label in labels:
        if not label:
            raise ValidationError("A domain name cannot have two dots in a row or start with one.")
        if len(label) > MAX_LABEL_LENGTH:
            raise ValidationError(
                "Each part of a domain name between dots can be at most %(max)d characters; "
                "'%(label)s…' is longer.",
                params={"max": MAX_LABEL_LENGTH, "label": label[:20]},
            )
        if not _LDH_LABEL.match(label):
            raise ValidationError(
                "'%(label)s' is not allowed in a domain name: use letters, digits and hyphens, "
                "and do not start or end a part with a hyphen.",
                params={"label": label},
            )
        if label.startswith("xn--"):
            _check_a_label(label)
    if _DIGITS.match(labels[-1]):
        raise ValidationError("The last part of a domain name cannot be all digits.")


def _check_a_label(label: str) -> None:
    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValidationError(
            "'%(label)s' is not a valid encoded (xn--) label.", params={"label": label}
        ) from exc


def is_reserved_domain(name: str) -> bool:
    """True for the provider's own domains and anything under them."""
    return any(name == reserved or name.endswith("." + reserved) for reserved in RESERVED_DOMAINS)


def normalize_own_domain(raw: str) -> str:
    name = normalize_domain_name(raw)
    if is_reserved_domain(name):
        raise ValidationError(
            "%(name)s belongs to the provider; an own domain must be the customer's, "
            "for example video.example.com. For a subdomain of %(parent)s choose that option.",
            params={"name": name, "parent": ONPEXIP_PARENT},
        )
    return name


def normalize_onpexip_subdomain(raw: str) -> str:
    """Accept `acme` or `acme.onpexip.com`; return `acme.onpexip.com`."""
    typed = (raw or "").strip().rstrip(".")
    # Lower-case only ASCII: str.lower() turns some non-ASCII letters (KELVIN SIGN) into a-z.
    name = typed.lower() if typed.isascii() else typed
    if not name:
        raise ValidationError("Enter the subdomain label, for example acme (for acme.onpexip.com).")
    suffix = "." + ONPEXIP_PARENT
    label = name[: -len(suffix)] if name.endswith(suffix) else name
    if not label.isascii() or not _LDH_LABEL.match(label) or len(label) > MAX_LABEL_LENGTH:
        raise ValidationError(
            "An %(parent)s subdomain is exactly one label of lower-case letters a-z, digits and "
            "hyphens (not at the start or end), for example acme.%(parent)s.",
            params={"parent": ONPEXIP_PARENT},
        )
    if label.startswith("xn--"):
        raise ValidationError(
            "An %(parent)s subdomain cannot be an encoded (xn--) label.",
            params={"parent": ONPEXIP_PARENT},
        )
    return f"{label}.{ONPEXIP_PARENT}"


@functools.lru_cache(maxsize=4096)
def display_domain(ascii_name: str) -> str:
    """The Unicode form of a stored name, for people; never for lookups. Cached: idna checks
    every label of every name each time, on every page and email that shows one."""
    try:
        return idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError):
        return ascii_name
