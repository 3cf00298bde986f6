from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.management.tenant_lookup import tenant_lookup
from onboarding.services import tokens
from onboarding.services.audit import Actor, TransitionRefused


class Command(BaseCommand):
    help = (
        "Issue a fresh upload link for a tenant (earlier links stop working), email it to the "
        "token-upload contacts and print it for scripts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="the tenant's id, or its exact name (any case)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_lookup(options["tenant"])
        try:
            issued = tokens.upload_link_reissue(
                tenant=tenant, actor=Actor.system("manage.py issue_upload_link")
            )
        except TransitionRefused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(issued.url)
