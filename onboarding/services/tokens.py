"""Storing, replacing, revoking and destroying security tokens, and re-issuing upload links.

Each operation is one transaction: the link is consumed, the token stored, the tenant moved on
(through lifecycle's conditional UPDATE) and its email recorded together, or none of it happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from onboarding.infra import encryption
from onboarding.mail import composers
from onboarding.models import (
    AuditAction,
    CallingDomain,
    OutboundEmail,
    SecurityToken,
    Tenant,
    TenantStatus,
    TokenState,
    UploadInvitation,
)
from onboarding.services import audit, invitations, lifecycle, link_emails
from onboarding.services.audit import Actor, TransitionRefused
from onboarding.services.lifecycle import Operation

S = TenantStatus
# A second "send a new link" press within this time sends nothing: the first link is on its way.
NEW_LINK_DEBOUNCE = timedelta(minutes=10)


class LinkTooOld(TransitionRefused):
    """The link is too old to ask for a new one (410)."""


class TooManyNewLinks(TransitionRefused):
    """The tenant had its share of customer-requested links today (429)."""


@dataclass(frozen=True)
class StoredToken:
    token: SecurityToken
    replaced: bool


def token_store(
    *,
    invitation: UploadInvitation,
    token: str,
    actor: Actor,
    now: datetime | None = None,
) -> StoredToken:
    """Consume the link and store the (already validated) token, in one transaction.

    The first token makes the tenant active; a later one replaces the current token, which is
    kept encrypted for the grace period. Either way the gateway must get the new token first:
    the confirmation (or "token replaced") goes out when it has (`gateway_has_token_mark`).
    """
    now = now or timezone.now()
    with transaction.atomic():
        # No select_related here: when a settings change moves the tenant to another gateway
        # while we wait for the lock, PostgreSQL re-checks the locked row against the joined row
        # it read before the wait, the join no longer matches, and the tenant seems to vanish.
        tenant = Tenant.objects.select_for_update().get(pk=invitation.tenant_id)
        if not lifecycle.is_allowed(Operation.UPLOAD_TOKEN, tenant.status):
            raise TransitionRefused(f"{tenant.name} is not accepting a token right now.")
        if not invitations.invitation_consume(invitation, now=now):
            raise TransitionRefused("This link has just been used or replaced by a newer one.")
        replaced = tenant.status == S.ACTIVE
        SecurityToken.objects.filter(tenant=tenant, state=TokenState.CURRENT).update(
            state=TokenState.PREVIOUS, replaced_at=now
        )
        stored = SecurityToken.objects.create(
            tenant=tenant,
            ciphertext=encryption.encrypt(token),
            fingerprint=encryption.fingerprint(token),
            uploaded_at=now,
            source_ip=actor.ip_address,
            invitation=invitation,
            is_replacement=replaced,
        )
        detail = {"fingerprint": stored.fingerprint}
        if replaced:
            audit.audit_record(
                tenant=tenant,
                action=AuditAction.TOKEN_REPLACED,
                actor=actor,
                now=now,
                detail=detail,
            )
        else:
            lifecycle.tenant_activate(
                tenant=tenant, actor=actor, now=now, detail=detail, locked=True
            )
            # read under the tenant's lock: a domain verified meanwhile is seen here, or its own
            # confirmation check sees this token
            domains = list(tenant.calling_domains.customer_facing())
            confirmation_queue_if_ready(tenant, stored, now=now, domains=domains)
    return StoredToken(token=stored, replaced=replaced)


def own_domains_ready(tenant: Tenant, domains: list[CallingDomain] | None = None) -> bool:
    """Every own domain in use is verified (DNS drift flags hold the confirmation back too).

    `domains`: the tenant's customer-facing domains, when the caller has just read them.
    """
    if domains is not None:
        return all(domain.is_dns_ready for domain in domains)
    return (
        not CallingDomain.objects.customer_facing().filter(tenant=tenant).dns_not_ready().exists()
    )


def confirmation_queue_if_ready(
    tenant: Tenant,
    token: SecurityToken | None = None,
    *,
    now: datetime | None = None,
    domains: list[CallingDomain] | None = None,
) -> bool:
    """The confirmation goes out once the service is ready: the token that made the tenant
    active is stored, every own domain is verified, and the gateway has that token ("ready"
    means ready).

    Called at upload, when a domain verifies and when the gateway gets the token; the
    idempotency key makes repeats harmless. A replacement token never brings a confirmation
    ("token replaced" goes out when the gateway has it: `gateway_has_token_mark`). `domains`:
    the tenant's customer-facing domains, when the caller has just read them under the tenant's
    lock.
    """
    now = now or timezone.now()
    token = token or SecurityToken.objects.filter(tenant=tenant, state=TokenState.CURRENT).first()
    if token is None or token.is_replacement or not own_domains_ready(tenant, domains):
        return False
    if not gateway_has_token(token):
        return False
    composers.confirmation_queue(tenant, token, now, domains=domains)
    return True


def gateway_has_token(token: SecurityToken) -> bool:
    """The fact "ready" waits for, set by the gateway's provisioning mode: read back from the
    Infinity node, fetched from the feed, or confirmed by staff."""
    return token.gateway_has_token_at is not None


def tenant_for_update(tenant_id: int) -> Tenant:
    """The tenant locked (its gateway read, not locked), inside the caller's transaction.

    Take it before the tenant's other rows: staff's changes lock the tenant before its
    provisioning row. The lock also orders the gateway getting the token against an own domain
    verifying at the same moment (onboarding/dns/notices.py takes it too): the side that runs
    second sees the first's fact, so the confirmation waiting for both goes out.
    """
    return (
        Tenant.objects.select_for_update(of=("self",)).select_related("gateway").get(pk=tenant_id)
    )


def gateway_has_token_mark(
    token: SecurityToken,
    *,
    actor: Actor,
    now: datetime | None = None,
    how: str,
    locked_tenant: Tenant | None = None,
) -> bool:
    """Record that the gateway has this (current) token, once, and queue the email that waited
    for it: the confirmation, or "token replaced" for a later token. False when it was known.
    `locked_tenant`: the token's tenant, when the caller holds `tenant_for_update`.

    A tenant suspended while its gateway was being configured gets its confirmation when the
    gateway is confirmed again after the resume: the confirmation's key makes repeats harmless.
    """
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        tenant = locked_tenant or tenant_for_update(token.tenant_id)
        return _gateway_has_token_mark(tenant, token, actor=actor, now=now, how=how)


def _gateway_has_token_mark(
    tenant: Tenant, token: SecurityToken, *, actor: Actor, now: datetime, how: str
) -> bool:
    won = SecurityToken.objects.filter(
        pk=token.pk, state=TokenState.CURRENT, gateway_has_token_at__isnull=True
    ).update(gateway_has_token_at=now)
    if won == 1:
        token.gateway_has_token_at = now
        audit.audit_record(
            tenant=tenant,
            action=AuditAction.GATEWAY_HAS_TOKEN,
            actor=actor,
            now=now,
            detail={
                "fingerprint": token.fingerprint,
                "how": how,
                "replacement": token.is_replacement,
            },
        )
        if token.is_replacement:
            composers.token_replaced_queue(tenant, token, now)
    if not token.is_replacement and tenant.status == TenantStatus.ACTIVE:
        already = OutboundEmail.objects.filter(
            idempotency_key=composers.confirmation_key(tenant, token)
        ).exists()
        if not already:
            domains = list(tenant.calling_domains.customer_facing())
            confirmation_queue_if_ready(tenant, token, now=now, domains=domains)
    return won == 1


def upload_link_reissue(
    *, tenant: Tenant, actor: Actor, now: datetime | None = None
) -> invitations.IssuedLink:
    """A new link to the token-upload contacts (never to an address typed on a page)."""
    now = now or timezone.now()
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if not lifecycle.is_allowed(Operation.ISSUE_UPLOAD_LINK, tenant.status):
            raise TransitionRefused(
                f"{tenant.name} is {tenant.get_status_display().lower()}; upload links are "
                "issued only to invited or active tenants."
            )
        issued = link_emails.new_link_send(tenant, actor.label, now)
        audit.audit_record(
            tenant=tenant,
            action=AuditAction.UPLOAD_LINK_ISSUED,
            actor=actor,
            now=now,
            detail={"invitation": issued.invitation.pk},
        )
    return issued


def customer_link_request(
    *, invitation: UploadInvitation, actor: Actor, now: datetime | None = None
) -> invitations.IssuedLink | None:
    """A customer asks for a new link from an expired, replaced or used one.

    Old links cannot do it forever, a tenant gets a bounded number a day, and a second press
    within minutes sends nothing more (the first link is on its way). None means nothing new
    was sent because one just was.
    """
    now = now or timezone.now()
    if invitation.created_at < now - settings.NEW_LINK_REQUEST_MAX_AGE:
        raise LinkTooOld(
            "This link is too old to ask for a new one. Please contact us to continue."
        )
    tenant = invitation.tenant
    recent = UploadInvitation.objects.filter(
        tenant=tenant,
        created_at__gt=now - NEW_LINK_DEBOUNCE,
        used_at__isnull=True,
        revoked_at__isnull=True,
    )
    if recent.exclude(pk=invitation.pk).exists():
        return None
    requested_today = tenant.audit_events.filter(
        action=AuditAction.UPLOAD_LINK_ISSUED,
        actor_kind=actor.kind,
        created_at__gt=now - timedelta(days=1),
    ).count()
    if requested_today >= settings.NEW_LINKS_PER_TENANT_PER_DAY:
        raise TooManyNewLinks(
            "We have already sent several new links today. Please use the newest email, or "
            "contact us."
        )
    return upload_link_reissue(tenant=tenant, actor=actor, now=now)


def token_revoke(*, tenant: Tenant, actor: Actor, now: datetime | None = None) -> Tenant:
    """Staff revoke the current token: it stops being served, the tenant is invited again and
    a new upload link goes to the token-upload contacts."""
    now = now or timezone.now()
    with transaction.atomic():
        lifecycle.tenant_revoke_token(tenant=tenant, actor=actor, now=now)
        SecurityToken.objects.filter(tenant=tenant, state=TokenState.CURRENT).update(
            state=TokenState.REVOKED, ciphertext="", destroyed_at=now
        )
        link_emails.new_link_send(tenant, actor.label, now)
    return tenant


def tokens_destroy_expired(*, now: datetime | None = None) -> int:
    """Destroy previous tokens whose grace period is over; their history stays."""
    now = now or timezone.now()
    return SecurityToken.objects.filter(
        state=TokenState.PREVIOUS, replaced_at__lte=now - settings.TOKEN_GRACE_PERIOD
    ).update(state=TokenState.DESTROYED, ciphertext="", destroyed_at=now)


def current_token(tenant: Tenant) -> SecurityToken | None:
    return SecurityToken.objects.filter(tenant=tenant, state=TokenState.CURRENT).first()
