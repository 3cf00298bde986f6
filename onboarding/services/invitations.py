"""Signed upload links: issue, check, consume and revoke.

A link is `TimestampSigner(salt=UPLOAD_SALT).sign_object({"i": invitation id, "n": nonce})`. The
database holds only a hash of the nonce, so a stolen database cannot mint links, and a forged
signature never reaches the database at all. GET only ever checks; POST consumes with a
conditional UPDATE in the same transaction as the token it stores.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from onboarding.models import CallingDomain, Tenant, TenantStatus, UploadInvitation

UPLOAD_SALT = "onboarding.upload-link"
# 128 bits: the link is the customer's only credential
NONCE_BYTES = 16


class LinkOutcome(enum.Enum):
    """What a link leads to, in the order of precedence the architecture doc sets."""

    NOT_FOUND = "not_found"  # bad signature or unknown invitation: reveals nothing
    USED = "used"  # the token was received; a new link can be asked for
    SUSPENDED = "suspended"  # onboarding is paused
    REVOKED = "revoked"  # a newer link was sent (or staff revoked the token)
    EXPIRED = "expired"
    ENDED = "ended"  # the tenant was offboarded
    VALID = "valid"

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS[self]


_HTTP_STATUS = {
    LinkOutcome.NOT_FOUND: 404,
    LinkOutcome.USED: 200,
    LinkOutcome.SUSPENDED: 403,
    LinkOutcome.REVOKED: 410,
    LinkOutcome.EXPIRED: 410,
    LinkOutcome.ENDED: 410,
    LinkOutcome.VALID: 200,
}


@dataclass(frozen=True)
class LinkCheck:
    outcome: LinkOutcome
    invitation: UploadInvitation | None = None
    # the tenant's customer-facing calling domains, read with the invitation
    calling_domains: list[CallingDomain] = field(default_factory=list)

    @property
    def tenant(self) -> Tenant | None:
        return self.invitation.tenant if self.invitation else None


@dataclass(frozen=True)
class IssuedLink:
    invitation: UploadInvitation
    url: str


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("ascii")).hexdigest()


def upload_url(signed: str) -> str:
    return f"{settings.PORTAL_BASE_URL}/upload/{signed}/"


def invitation_issue(
    *, tenant: Tenant, issued_by: str = "", now: datetime | None = None
) -> IssuedLink:
    """A fresh link for the tenant; every earlier link of the tenant is revoked.

    Call inside the transaction that sends the link, so a rolled-back send revokes nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Serialise issuers per tenant, so two at once cannot leave two live links.
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        UploadInvitation.objects.filter(
            tenant=tenant, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        nonce = secrets.token_urlsafe(NONCE_BYTES)
        invitation = UploadInvitation.objects.create(
            tenant=tenant,
            nonce_hash=_hash(nonce),
            created_at=now,
            expires_at=now + settings.UPLOAD_LINK_MAX_AGE,
            issued_by=issued_by,
        )
    signed = signing.TimestampSigner(salt=UPLOAD_SALT).sign_object({"i": invitation.pk, "n": nonce})
    return IssuedLink(invitation=invitation, url=upload_url(signed))


def invitation_check(signed: str, *, now: datetime | None = None) -> LinkCheck:
    """Classify a link without changing anything (GET is safe for email scanners)."""
    now = now or timezone.now()
    invitation, domains = _find(signed)
    if invitation is None:
        return LinkCheck(LinkOutcome.NOT_FOUND)
    tenant = invitation.tenant
    if tenant.status == TenantStatus.OFFBOARDED:
        outcome = LinkOutcome.ENDED
    elif invitation.used_at is not None:
        outcome = LinkOutcome.USED
    elif tenant.status == TenantStatus.SUSPENDED:
        outcome = LinkOutcome.SUSPENDED
    elif invitation.revoked_at is not None:
        outcome = LinkOutcome.REVOKED
    elif invitation.expires_at <= now:
        outcome = LinkOutcome.EXPIRED
    else:
        outcome = LinkOutcome.VALID
    return LinkCheck(outcome, invitation, domains)


def _find(signed: str) -> tuple[UploadInvitation | None, list[CallingDomain]]:
    """The invitation a correctly signed link names (with its tenant, gateway and the tenant's
    customer-facing calling domains), or None. Never raises on bad input."""
    if not signed or len(signed) > 500:
        return None, []
    try:
        payload = signing.TimestampSigner(salt=UPLOAD_SALT).unsign_object(signed)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None, []
    if not isinstance(payload, dict):
        return None, []
    invitation_id, nonce = payload.get("i"), payload.get("n")
    if not isinstance(invitation_id, int) or not isinstance(nonce, str) or not nonce.isascii():
        return None, []
    if not -(2**63) <= invitation_id < 2**63:  # a signed but absurd id: no such row, no error
        return None, []
    invitation = (
        UploadInvitation.objects.select_related("tenant__gateway")
        .prefetch_related(
            Prefetch(
                "tenant__calling_domains",
                queryset=CallingDomain.objects.customer_facing(),
                to_attr="customer_facing_domains",
            )
        )
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not hmac.compare_digest(invitation.nonce_hash, _hash(nonce)):
        return None, []
    # the Prefetch above put them there
    domains: list[CallingDomain] = invitation.tenant.customer_facing_domains  # type: ignore[attr-defined]
    return invitation, domains


def invitation_consume(invitation: UploadInvitation, *, now: datetime | None = None) -> bool:
    """Mark the link used, if it still may be; exactly one of two racing uploads wins."""
    now = now or timezone.now()
    return bool(
        UploadInvitation.objects.filter(
            pk=invitation.pk,
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).update(used_at=now)
    )


def invitations_revoke(*, tenant: Tenant, now: datetime | None = None) -> int:
    return UploadInvitation.objects.filter(
        tenant=tenant, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now or timezone.now())


def newest_link_sent_at(tenant: Tenant) -> datetime | None:
    return (
        UploadInvitation.objects.filter(tenant=tenant)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


# The DNS status page's link ----------------------------------------------------------------------

DNS_STATUS_SALT = "onboarding.dns-status"


def dns_status_url(tenant: Tenant) -> str:
    """A read-only link to the tenant's DNS status; upload links never revoke it."""
    signed = signing.TimestampSigner(salt=DNS_STATUS_SALT).sign_object({"t": tenant.pk})
    return f"{settings.PORTAL_BASE_URL}/dns-status/{signed}/"


def dns_status_tenant(signed: str) -> Tenant | None:
    """The tenant a correctly signed DNS status link names, or None. Never raises."""
    if not signed or len(signed) > 500:
        return None
    try:
        payload = signing.TimestampSigner(salt=DNS_STATUS_SALT).unsign_object(signed)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None
    tenant_id = payload.get("t") if isinstance(payload, dict) else None
    if not isinstance(tenant_id, int):
        return None
    return Tenant.objects.select_related("gateway").filter(pk=tenant_id).first()
