"""Enrol a staff user for the admin's second factor and show the secret once.

manage.py enrol_totp alice           # QR code and otpauth URI, then backup codes
manage.py enrol_totp alice --no-qr   # the URI only (paste it into a password manager)
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.services.staff_two_factor import staff_totp_enrol


class Command(BaseCommand):
    help = "Give a staff user a new authenticator (TOTP) device and backup codes, shown once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--no-qr", action="store_true", help="print the URI without a QR code")

    def handle(self, *args: Any, username: str, no_qr: bool, **options: Any) -> None:
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {username}.") from exc
        if not user.is_staff:
            raise CommandError(f"{username} is not staff: the admin would refuse them anyway.")
        enrolment = staff_totp_enrol(user=user)
        # written to the terminal only (self.stdout), never to a logger
        self.stdout.write(
            f"{username} is enrolled; any earlier device and backup codes stop working.\n"
            "Scan this with an authenticator app (or paste the URI into one). It is shown once:"
        )
        if not no_qr:
            self.stdout.write(enrolment.qr_text())
        self.stdout.write(enrolment.config_url)
        self.stdout.write("\nBackup codes (each works once; keep them somewhere safe):")
        self.stdout.write("  " + "  ".join(enrolment.backup_codes))
