from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.management.live_command import (
    actor_for,
    calling_domain_lookup,
    comma_list,
    refusals_as_errors,
    yes_no,
)
from onboarding.management.tenant_lookup import gateway_lookup, tenant_lookup
from onboarding.services import changes


class Command(BaseCommand):
    help = (
        "Change an invited or active tenant's settings. The token-upload contacts are told "
        "exactly what to change in Google Admin (old -> new); the token is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="the tenant's id, or its exact name (any case)")
        parser.add_argument("--gateway", help="the gateway's name")
        parser.add_argument("--access-scope", choices=["whole", "selected"])
        parser.add_argument("--access-scope-units", type=comma_list, help="comma-separated")
        parser.add_argument("--token-upload-contacts", type=comma_list, help="comma-separated")
        parser.add_argument(
            "--service-notification-contacts", type=comma_list, help="comma-separated"
        )
        parser.add_argument("--domain", help="the calling domain the next options change")
        parser.add_argument("--meeting-id-length", choices=["short", "long"])
        parser.add_argument("--prefix", help="short IDs only; '' clears it")
        parser.add_argument("--sfb", type=yes_no, help="additional SfB gateway: yes or no")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_lookup(options["tenant"])
        fields: dict[str, Any] = {}
        if options["gateway"]:
            fields["gateway"] = gateway_lookup(options["gateway"])
        for name in (
            "access_scope",
            "access_scope_units",
            "token_upload_contacts",
            "service_notification_contacts",
        ):
            if options[name] is not None:
                fields[name] = options[name]
        domains = {}
        domain_options = [options[n] for n in ("meeting_id_length", "prefix", "sfb")]
        if options["domain"]:
            calling_domain = calling_domain_lookup(tenant, options["domain"])
            domains[calling_domain.pk] = changes.DomainSettings(*domain_options)
        elif any(o is not None for o in domain_options):
            raise CommandError("Name the calling domain to change with --domain.")
        with refusals_as_errors():
            result = changes.tenant_settings_change(
                tenant=tenant, actor=actor_for(self), fields=fields, domains=domains
            )
        for change in result.changes:
            where = f" ({change.where})" if change.where else ""
            self.stdout.write(f"{change.what}{where}: {change.old} -> {change.new}")
        if not result.changes:
            self.stdout.write("Nothing changed.")
