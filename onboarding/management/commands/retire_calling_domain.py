from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from onboarding.management.live_command import actor_for, calling_domain_lookup, refusals_as_errors
from onboarding.management.tenant_lookup import tenant_lookup
from onboarding.services import domain_moves


class Command(BaseCommand):
    help = (
        "Retire a calling domain replaced by a switch (or an abandoned move target). A "
        "shared-domain prefix stays quarantined for PREFIX_QUARANTINE_DAYS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="the tenant's id, or its exact name (any case)")
        parser.add_argument("domain", help="the calling domain to retire")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_lookup(options["tenant"])
        old = calling_domain_lookup(tenant, options["domain"])
        with refusals_as_errors():
            domain_moves.calling_domain_retire(calling_domain=old, actor=actor_for(self))
        self.stdout.write(f"{old} of {tenant.name} is retired.")
