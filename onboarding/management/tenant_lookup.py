"""Finding a tenant from what an operator typed on the command line: an id or an exact name."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.models import Value
from django.db.models.functions import Lower

from onboarding.models import Gateway, Tenant, TenantStatus


def tenant_lookup(identifier: str) -> Tenant:
    """The tenant with this id, else the one with this name (any case, not offboarded).

    A number that is no tenant's id is tried as a name, so a tenant called "2024" can be found.
    Names compare the way the uniqueness constraint does (SQL `LOWER`), so at most one matches.
    """
    typed = identifier.strip()
    if typed.isdigit():
        tenant = Tenant.objects.filter(pk=int(typed)).first()
        if tenant is not None:
            return tenant
    tenant = tenant_by_name(typed)
    if tenant is None:
        raise CommandError(f"No tenant has the id or name {typed!r}.")
    return tenant


def tenant_by_name(name: str) -> Tenant | None:
    """The tenant that is not offboarded with this name in any case, or None."""
    return (
        Tenant.objects.exclude(status=TenantStatus.OFFBOARDED)
        .alias(lower_name=Lower("name"))
        .filter(lower_name=Lower(Value(name.strip())))
        .first()
    )


def gateway_lookup(name: str) -> Gateway:
    """The gateway with exactly this name, as staff see it in the admin."""
    gateway = Gateway.objects.filter(name=name).first()
    if gateway is None:
        raise CommandError(f"No gateway is named {name!r}.")
    return gateway
