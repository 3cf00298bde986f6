"""Encryption at rest and keyed fingerprints.

Tokens and rendered emails (which may hold an upload link) are encrypted with MultiFernet over
`TOKEN_ENCRYPTION_KEYS` (newest first; independent of `SECRET_KEY`). A decryption failure raises:
there is never a fallback to the stored bytes. Fingerprints are an HMAC under their own key, so a
short token cannot be recovered by hashing guesses, and rotating `SECRET_KEY` leaves history intact.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FINGERPRINT_HEX_CHARS = 16  # 64 bits: enough to tell uploads apart, too short to be a handle


class DecryptionFailed(Exception):
    """The ciphertext was not made by any configured key (or was tampered with)."""


def parse_keys(raw_keys: list[str]) -> list[Fernet]:
    """Fernet objects for the configured keys; raises ImproperlyConfigured naming the bad one."""
    if not raw_keys:
        raise ImproperlyConfigured(
            'TOKEN_ENCRYPTION_KEYS is empty. Generate a key with `python -c "from '
            'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.'
        )
    fernets = []
    for position, key in enumerate(raw_keys, start=1):
        try:
            fernets.append(Fernet(key.encode() if isinstance(key, str) else key))
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"TOKEN_ENCRYPTION_KEYS entry {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from exc
    return fernets


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet(parse_keys(list(keys)))


def _cipher() -> MultiFernet:
    return _multifernet(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(ciphertext: str) -> str:
    try:
        return _cipher().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise DecryptionFailed(
            "stored ciphertext does not decrypt under any configured key"
        ) from exc


def reencrypt(ciphertext: str) -> str:
    """The same plaintext under the newest key (for key rotation)."""
    try:
        return _cipher().rotate(ciphertext.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError) as exc:
        raise DecryptionFailed(
            "stored ciphertext does not decrypt under any configured key"
        ) from exc


def fingerprint(secret: str) -> str:
    """A keyed fingerprint for staff to compare uploads; reveals nothing about the secret."""
    key = settings.TOKEN_FINGERPRINT_KEY.encode("utf-8")
    digest = hmac.new(key, secret.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:FINGERPRINT_HEX_CHARS]
