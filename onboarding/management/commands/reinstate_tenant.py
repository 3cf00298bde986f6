from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.management.live_command import actor_for, refusals_as_errors
from onboarding.models import Tenant
from onboarding.services import offboarding


class Command(BaseCommand):
    help = "Start a fresh onboarding for an offboarded tenant: a new tenant record in draft."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant_id", type=int, help="the offboarded tenant's id")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(pk=options["tenant_id"]).first()
        if tenant is None:
            raise CommandError(f"No tenant has the id {options['tenant_id']}.")
        with refusals_as_errors():
            created = offboarding.tenant_reinstate(tenant=tenant, actor=actor_for(self))
        self.stdout.write(f"{created.tenant.name} starts afresh as tenant {created.tenant.pk}.")
