"""Per-gateway API keys for the provisioning feed: issue, authenticate, revoke.

A key reads `gwk_<key id>_<secret>`. The key ID is public (it finds the row and tells keys apart
in the admin); the secret is 256 random bits. The database keeps only the SHA-256 of the whole
key: a plain hash is enough for a high-entropy random key (nothing to brute-force, unlike a
password), and it keeps every request to one indexed lookup and one constant-time compare.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from onboarding.models import AuditAction, Gateway, GatewayApiKey
from onboarding.services import audit
from onboarding.services.audit import Actor

KEY_PREFIX = "gwk"
KEY_ID_BYTES = 8  # 16 hex characters: unique enough to find a row, not a secret
KEY_SECRET_BYTES = 32  # 256 bits: the credential
# a longer header value is not one of ours; refuse it before hashing anything
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class IssuedKey:
    api_key: GatewayApiKey
    key: str  # shown to staff exactly once, stored nowhere


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def expiry_validate(*, expires_at: datetime | None, now: datetime | None = None) -> None:
    """A key's expiry, when it has one, lies in the future: one already past would never work."""
    now = now or timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationError(
            {
                "expires_at": "Choose a time in the future, or leave it empty for a key that does "
                "not expire: a key that has already expired would never work."
            }
        )


def api_key_issue(
    *,
    gateway: Gateway,
    actor: Actor,
    label: str = "",
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> IssuedKey:
    """A new key for the gateway; the gateway's other keys keep working (rotation overlap)."""
    now = now or timezone.now()
    expiry_validate(expires_at=expires_at, now=now)
    key_id = secrets.token_hex(KEY_ID_BYTES)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(KEY_SECRET_BYTES)}"
    with transaction.atomic():
        api_key = GatewayApiKey.objects.create(
            gateway=gateway,
            key_id=key_id,
            key_hash=_hash(key),
            label=label,
            created_at=now,
            created_by=actor.label,
            expires_at=expires_at,
        )
        audit.audit_record(
            tenant=None,
            action=AuditAction.GATEWAY_API_KEY_ISSUED,
            actor=actor,
            now=now,
            detail={"gateway": gateway.pk, "key_id": key_id},
        )
    return IssuedKey(api_key=api_key, key=key)


def api_key_revoke(*, api_key: GatewayApiKey, actor: Actor, now: datetime | None = None) -> bool:
    """Stop the key working at once. False when it was already revoked."""
    now = now or timezone.now()
    with transaction.atomic():
        revoked = GatewayApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if revoked:
            audit.audit_record(
                tenant=None,
                action=AuditAction.GATEWAY_API_KEY_REVOKED,
                actor=actor,
                now=now,
                detail={"gateway": api_key.gateway_id, "key_id": api_key.key_id},
            )
    return bool(revoked)


def key_id_of(key: str) -> str | None:
    """The public key ID inside a presented key, or None when it is not shaped like one."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii():
        return None
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[2]:
        return None
    key_id = parts[1]
    if len(key_id) != 2 * KEY_ID_BYTES or any(c not in "0123456789abcdef" for c in key_id):
        return None
    return key_id


def api_key_authenticate(key: str, *, now: datetime | None = None) -> GatewayApiKey | None:
    """The usable key row the presented key matches, or None. Never raises on bad input."""
    key_id = key_id_of(key)
    if key_id is None:
        return None
    api_key = (
        GatewayApiKey.objects.usable(now).select_related("gateway").filter(key_id=key_id).first()
    )
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _hash(key)):
        return None
    return api_key
