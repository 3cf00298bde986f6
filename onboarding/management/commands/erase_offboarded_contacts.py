from typing import Any

from django.core.management.base import BaseCommand

from onboarding.services import offboarding


class Command(BaseCommand):
    help = (
        "Erase the contact addresses of tenants offboarded longer than CONTACT_RETENTION_DAYS "
        "ago (the periodic job does this hourly)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        erased = offboarding.contacts_erase_due()
        self.stdout.write(f"Erased the contact addresses of {erased} tenant(s).")
