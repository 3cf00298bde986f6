"""Enrolling staff for the admin's second factor: one TOTP device and a set of backup codes.

The TOTP secret leaves the server once, inside the otpauth URI (or its QR code) printed at
enrolment; it is stored encrypted, the backup codes only as digests (onboarding/models/
staff_devices.py), nothing logs them and no admin screen shows them. Enrolling again replaces the
user's devices, so a lost phone is dealt with by enrolling anew.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from onboarding.models import (
    StaffBackupCode,
    StaffBackupCodeDevice,
    StaffTotpDevice,
    backup_code_digest,
    new_backup_code,
)

# Enough to get through a lost phone and a few sign-ins until an administrator re-enrols them.
BACKUP_CODE_COUNT = 8


@dataclass(frozen=True)
class Enrolment:
    config_url: str
    backup_codes: list[str]

    def __repr__(self) -> str:
        # the URI carries the TOTP secret: never let a repr put it into a log or traceback
        return f"Enrolment(backup_codes={len(self.backup_codes)})"

    def qr_text(self) -> str:
        """The otpauth URI as a QR code drawn with characters, for a terminal."""
        import io

        out = io.StringIO()
        segno.make(self.config_url, error="m").terminal(out=out, compact=True)
        return out.getvalue()


@transaction.atomic
def staff_totp_enrol(*, user: AbstractBaseUser) -> Enrolment:
    """Give `user` a fresh TOTP device and fresh backup codes, replacing any earlier ones."""
    StaffTotpDevice.objects.filter(user=user).delete()
    StaffBackupCodeDevice.objects.filter(user=user).delete()
    totp, key = StaffTotpDevice.create_for(user=user, name="Authenticator app")
    backup = StaffBackupCodeDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    StaffBackupCode.objects.bulk_create(
        StaffBackupCode(device=backup, digest=backup_code_digest(code)) for code in codes
    )
    return Enrolment(config_url=totp.config_url(key), backup_codes=codes)
