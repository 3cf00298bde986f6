from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from onboarding.management.live_command import actor_for, calling_domain_lookup, refusals_as_errors
from onboarding.management.tenant_lookup import tenant_lookup
from onboarding.services import domain_moves


class Command(BaseCommand):
    help = (
        "Switch a tenant to the new calling domain of a move, once it is ready; the customer "
        "gets the new values. The old domain keeps working until it is retired."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="the tenant's id, or its exact name (any case)")
        parser.add_argument("domain", help="the new calling domain")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_lookup(options["tenant"])
        new = calling_domain_lookup(tenant, options["domain"])
        with refusals_as_errors():
            domain_moves.domain_switch(calling_domain=new, actor=actor_for(self))
        self.stdout.write(f"{tenant.name} now uses {new}; the customer is told the new values.")
