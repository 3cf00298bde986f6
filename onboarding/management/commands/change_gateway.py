import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.management.live_command import actor_for, refusals_as_errors
from onboarding.management.tenant_lookup import gateway_lookup
from onboarding.models import ProvisioningMode
from onboarding.services import changes


class Command(BaseCommand):
    help = (
        "Change a gateway's name, address, hostname or SIP/H.323 host (every tenant it serves "
        "is told what to change in Google Admin, and their own domains' DNS is checked again), "
        "or how it is provisioned (every tenant on it is provisioned again)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("gateway", help="the gateway's name")
        parser.add_argument("--name")
        parser.add_argument("--ip-address")
        parser.add_argument("--hostname")
        parser.add_argument("--sip-host")
        parser.add_argument("--provisioning", choices=ProvisioningMode.values)
        parser.add_argument("--management-url", help="https://<management node>")
        parser.add_argument("--management-username")
        parser.add_argument(
            "--management-password-env",
            metavar="VARIABLE",
            help="the name of an environment variable holding the password (never the password "
            "itself: a command line is visible to every user of the machine)",
        )
        parser.add_argument(
            "--management-ca-bundle", metavar="PEM_FILE", help="a PEM file; '' clears it"
        )
        parser.add_argument("--management-timeout", type=float, metavar="SECONDS")
        parser.add_argument("--routing-rule-priority", type=int, metavar="1-200")

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = gateway_lookup(options["gateway"])
        plain = (
            "name",
            "ip_address",
            "hostname",
            "sip_host",
            "provisioning",
            "management_url",
            "management_username",
            "management_timeout",
            "routing_rule_priority",
        )
        fields = {name: options[name] for name in plain if options[name] is not None}
        if options["management_password_env"]:
            variable = options["management_password_env"]
            if not os.environ.get(variable):
                raise CommandError(f"The environment variable {variable} is empty or not set.")
            fields["management_password"] = os.environ[variable]
        if options["management_ca_bundle"] is not None:
            path = options["management_ca_bundle"]
            try:
                fields["management_ca_bundle"] = Path(path).read_text() if path else ""
            except OSError as exc:
                raise CommandError(f"{path} cannot be read: {exc.strerror}.") from exc
        with refusals_as_errors():
            told = changes.gateway_change(gateway=gateway, actor=actor_for(self), fields=fields)
        self.stdout.write(f"{gateway.name} saved; {len(told)} tenant(s) told what to change.")
