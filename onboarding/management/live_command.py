"""Shared parts of the commands that change live tenants: finding a calling domain, and turning
refusals and rule errors into a clear CommandError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from onboarding.domain import domain_names
from onboarding.models import CallingDomain, Tenant
from onboarding.services import audit


def calling_domain_lookup(tenant: Tenant, typed: str) -> CallingDomain:
    """The tenant's calling domain in use with this name (as typed, Unicode or ASCII)."""
    try:
        name = domain_names.normalize_domain_name(typed)
    except ValidationError as exc:
        raise CommandError(" ".join(exc.messages)) from exc
    found = list(tenant.calling_domains.in_use().filter(domain=name))
    if len(found) != 1:
        raise CommandError(f"{tenant.name} has no calling domain {typed!r} in use.")
    return found[0]


@contextmanager
def refusals_as_errors() -> Iterator[None]:
    try:
        yield
    except audit.TransitionRefused as exc:
        raise CommandError(exc.message) from exc
    except ValidationError as exc:
        raise CommandError(" ".join(exc.messages)) from exc


def yes_no(value: str) -> bool:
    if value.lower() in ("yes", "on", "true", "1"):
        return True
    if value.lower() in ("no", "off", "false", "0"):
        return False
    raise ValueError(value)


def comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def actor_for(command: Any) -> audit.Actor:
    return audit.Actor.system(f"manage.py {command.__module__.rsplit('.', 1)[-1]}")
