from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from onboarding.management.live_command import actor_for, refusals_as_errors
from onboarding.management.tenant_lookup import gateway_lookup
from onboarding.services import changes


class Command(BaseCommand):
    help = (
        "Change a gateway's name, address, hostname or SIP/H.323 host. Every tenant it serves "
        "is told what to change in Google Admin, and their own domains' DNS is checked again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("gateway", help="the gateway's name")
        parser.add_argument("--name")
        parser.add_argument("--ip-address")
        parser.add_argument("--hostname")
        parser.add_argument("--sip-host")

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = gateway_lookup(options["gateway"])
        fields = {
            name: options[name]
            for name in ("name", "ip_address", "hostname", "sip_host")
            if options[name] is not None
        }
        with refusals_as_errors():
            told = changes.gateway_change(gateway=gateway, actor=actor_for(self), fields=fields)
        self.stdout.write(f"{gateway.name} saved; {len(told)} tenant(s) told what to change.")
