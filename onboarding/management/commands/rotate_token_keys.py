"""Re-encrypt every stored secret under the newest of TOKEN_ENCRYPTION_KEYS.

Run after putting a new key first in TOKEN_ENCRYPTION_KEYS (old keys after it); once it reports
success, the old keys can be removed from the setting.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from onboarding.infra import encryption
from onboarding.models import Gateway, OutboundEmail, SecurityToken, StaffTotpDevice

# Rows per transaction: small enough to keep locks short, large enough to be quick.
CHUNK = 500


class Command(BaseCommand):
    help = (
        "Re-encrypt stored tokens, unsent emails, staff TOTP keys and gateway management "
        "passwords under the newest "
        "TOKEN_ENCRYPTION_KEYS key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--progress-every",
            type=int,
            default=5000,
            metavar="N",
            help="print a progress line every N rows (default 5000)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        counts = {
            "tokens": self._rotate(
                SecurityToken.objects.exclude(ciphertext=""), "ciphertext", options
            ),
            "unsent emails": self._rotate(
                OutboundEmail.objects.exclude(message_ciphertext=""),
                "message_ciphertext",
                options,
            ),
            "TOTP keys": self._rotate(
                StaffTotpDevice.objects.exclude(key_ciphertext=""), "key_ciphertext", options
            ),
            "gateway passwords": self._rotate(
                Gateway.objects.exclude(management_password_ciphertext=""),
                "management_password_ciphertext",
                options,
            ),
        }
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(f"Re-encrypted {summary} under the newest key in {elapsed:.1f} s.")

    def _rotate(self, queryset: Any, field: str, options: dict[str, Any]) -> int:
        model = queryset.model
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        done = 0
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            with transaction.atomic():
                rows = model.objects.select_for_update().filter(pk__in=chunk).exclude(**{field: ""})
                for row in rows:
                    try:
                        setattr(row, field, encryption.reencrypt(getattr(row, field)))
                    except encryption.DecryptionFailed as exc:
                        raise CommandError(
                            f"{model.__name__} {row.pk} does not decrypt under any configured "
                            "key; nothing after it was changed. Put the missing key back in "
                            "TOKEN_ENCRYPTION_KEYS and run again."
                        ) from exc
                    row.save(update_fields=[field])
                    done += 1
                    every = options["progress_every"]
                    if every and done % every == 0:
                        self.stdout.write(f"  {model.__name__}: {done} of {len(ids)}")
        return done
