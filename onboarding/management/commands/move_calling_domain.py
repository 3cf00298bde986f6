from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from onboarding.management.live_command import (
    actor_for,
    calling_domain_lookup,
    refusals_as_errors,
    yes_no,
)
from onboarding.management.tenant_lookup import tenant_lookup
from onboarding.services import domain_moves
from onboarding.services.tenant_creation import CallingDomainSpec


class Command(BaseCommand):
    help = (
        "Add a new calling domain beside an old one (a move). An own domain's DNS is checked "
        "first; switch_calling_domain switches once it is ready."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="the tenant's id, or its exact name (any case)")
        parser.add_argument("--from", dest="replaces", required=True, help="the old domain")
        parser.add_argument("--option", required=True, choices=["shared", "onpexip", "own"])
        parser.add_argument("--domain", default="", help="the new domain (blank for shared)")
        parser.add_argument("--meeting-id-length", choices=["short", "long"], default="")
        parser.add_argument("--prefix", default="")
        parser.add_argument("--sfb", type=yes_no, default=False)

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_lookup(options["tenant"])
        old = calling_domain_lookup(tenant, options["replaces"])
        spec = CallingDomainSpec(
            option=options["option"],
            domain=options["domain"],
            meeting_id_length=options["meeting_id_length"],
            prefix=options["prefix"],
            sfb_additional_gateway=options["sfb"],
        )
        with refusals_as_errors():
            new = domain_moves.domain_move_start(
                tenant=tenant, replaces=old, spec=spec, actor=actor_for(self)
            )
        self.stdout.write(f"{new} added beside {old}; switch once it is ready.")
