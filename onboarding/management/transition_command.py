"""The shape shared by the commands that move one tenant through the state machine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.management.tenant_lookup import tenant_lookup
from onboarding.models import Tenant
from onboarding.services import audit, lifecycle


class TenantTransitionCommand(BaseCommand):
    """Subclasses name the lifecycle function; the command finds the tenant and calls it."""

    # staticmethod(lifecycle.tenant_<verb>) in each subclass
    transition: Callable[..., Tenant]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="the tenant's id, or its exact name (any case)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_lookup(options["tenant"])
        actor = audit.Actor.system(f"manage.py {self.command_name}")
        try:
            self.transition(tenant=tenant, actor=actor)
        except audit.TransitionRefused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{tenant.name} (id {tenant.pk}) is now {lifecycle.status_label(tenant).lower()}."
        )

    @property
    def command_name(self) -> str:
        return self.__module__.rsplit(".", 1)[-1]
