"""Staff second-factor devices for django-otp, with nothing secret stored in the clear.

django-otp's own TOTP and backup-code ("static") devices keep the TOTP key and the backup codes as
plain text in the database. Here the TOTP key is encrypted with the token keys (MultiFernet,
`TOKEN_ENCRYPTION_KEYS`, re-encrypted by `manage.py rotate_token_keys`), and backup codes are kept
only as SHA-256 digests: each code carries 80 random bits, so a digest cannot be reversed by
guessing. Verification follows django-otp's TOTPDevice: a tolerance of one step either way, the
drift learnt on success, and no time step accepted twice (replay).
"""

from __future__ import annotations

import hashlib
import secrets as random
import time
from base64 import b32encode
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from onboarding.infra import encryption

TOTP_KEY_BYTES = 20  # 160 bits, as RFC 4226 recommends for HMAC-SHA1
# Unambiguous lower-case letters and digits (no i, l, o, u): 32 symbols, 5 bits each.
BACKUP_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
BACKUP_CODE_LENGTH = 16  # 80 bits: far beyond guessing, even against a stolen digest
BACKUP_CODE_GROUP = 4


def new_backup_code() -> str:
    """A fresh backup code, shown as groups of four (`k7dq-m2xa-9pfe-wv3r`)."""
    raw = "".join(random.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
    groups = [raw[i : i + BACKUP_CODE_GROUP] for i in range(0, len(raw), BACKUP_CODE_GROUP)]
    return "-".join(groups)


def backup_code_digest(code: str) -> str:
    """The stored form of a backup code; spaces, dashes and case do not matter when typed."""
    normalised = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


class StaffTotpDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238) whose key is stored encrypted."""

    key_ciphertext: models.TextField[str, str] = models.TextField(
        editable=False, help_text="The secret key, encrypted with the token keys."
    )
    step: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(
        default=30, help_text="Seconds per code."
    )
    t0: models.BigIntegerField[int, int] = models.BigIntegerField(
        default=0, help_text="Unix time at which steps are counted from."
    )
    digits: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(
        default=6, help_text="Digits in a code."
    )
    tolerance: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(
        default=1, help_text="Steps before or after now that are still accepted."
    )
    drift: models.SmallIntegerField[int, int] = models.SmallIntegerField(
        default=0, help_text="Steps the authenticator app's clock is known to be off by."
    )
    last_t: models.BigIntegerField[int, int] = models.BigIntegerField(
        default=-1,
        help_text="The time step of the last accepted code; only later steps are accepted.",
    )

    class Meta(Device.Meta):
        verbose_name = "authenticator app"
        verbose_name_plural = "authenticator apps"

    @classmethod
    def create_for(cls, *, user: Any, name: str) -> tuple[StaffTotpDevice, bytes]:
        """A new confirmed device with a random key; returns the key too (shown once)."""
        key = random.token_bytes(TOTP_KEY_BYTES)
        device = cls.objects.create(
            user=user, name=name, confirmed=True, key_ciphertext=encryption.encrypt(key.hex())
        )
        return device, key

    @property
    def bin_key(self) -> bytes:
        return bytes.fromhex(encryption.decrypt(self.key_ciphertext))

    def verify_token(self, token: Any) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            code = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(code, self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    def get_throttle_factor(self) -> int:
        return 1

    def config_url(self, key: bytes) -> str:
        """The otpauth URI an authenticator app reads (Google's Key Uri Format)."""
        issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
        label = f"{issuer}:{self.user.get_username()}"
        params = urlencode(
            {
                "secret": b32encode(key).decode("ascii"),
                "algorithm": "SHA1",
                "digits": self.digits,
                "period": self.step,
            }
        )
        return f"otpauth://totp/{quote(label)}?{params}&issuer={quote(issuer)}"


class StaffBackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A set of one-time backup codes, stored as digests."""

    class Meta(Device.Meta):
        verbose_name = "set of backup codes"
        verbose_name_plural = "sets of backup codes"

    def verify_token(self, token: Any) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        # A DELETE that removes the row is the one use: two sign-ins racing with one code cannot
        # both delete it.
        used, _ = self.codes.filter(digest=backup_code_digest(str(token))).delete()
        if used:
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment(commit=True)
        return bool(used)

    def get_throttle_factor(self) -> int:
        return 1


class StaffBackupCode(models.Model):
    device = models.ForeignKey(
        StaffBackupCodeDevice, on_delete=models.CASCADE, related_name="codes"
    )
    digest = models.CharField(max_length=64, help_text="SHA-256 of the code; the code is not kept.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "digest"], name="backup_code_once_per_device")
        ]

    def __str__(self) -> str:
        return f"Backup code of {self.device}"
