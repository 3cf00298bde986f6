"""Staff's "send again": a new email re-rendered from the tenant's current data.

An email that carries an upload link gets a fresh link, which revokes the earlier one as always.
Only the kinds below can be sent again; the others belong to the moment they happened.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from onboarding.models import CallingDomain, EmailKind, OutboundEmail, Tenant
from onboarding.services import lifecycle, link_emails
from onboarding.services.lifecycle import Operation


def _new_link_again(tenant: Tenant, idempotency_key: str, now: datetime) -> OutboundEmail:
    issued = link_emails.new_link_send(tenant, "send again", now)
    return OutboundEmail.objects.get(idempotency_key=link_emails.new_link_key(tenant, issued))


def _dns_instructions_again(tenant: Tenant, idempotency_key: str, now: datetime) -> OutboundEmail:
    own = CallingDomain.objects.in_use().own().filter(tenant=tenant).first()
    if own is None:
        raise ValueError(f"{tenant.name} has no own domain, so there are no DNS instructions.")
    return link_emails.dns_instructions_send(tenant, own, idempotency_key, now)


# the kinds that carry an upload link, which go only where the transition table allows one
CARRY_AN_UPLOAD_LINK = frozenset({EmailKind.INITIAL, EmailKind.NEW_LINK})

AGAIN: dict[str, Callable[[Tenant, str, datetime], OutboundEmail]] = {
    EmailKind.INITIAL: link_emails.initial_email_send,
    EmailKind.NEW_LINK: _new_link_again,
    EmailKind.DNS_INSTRUCTIONS: _dns_instructions_again,
}


def email_send_again(row: OutboundEmail, *, now: datetime | None = None) -> OutboundEmail:
    """A new row, re-rendered from the tenant's current data (links are issued afresh)."""
    compose = AGAIN.get(row.kind)
    if compose is None or row.tenant is None:
        raise ValueError(f"A {row.get_kind_display()} email cannot be sent again.")
    now = now or timezone.now()
    with transaction.atomic():
        # the same lock as every other link issuer: one live link per tenant, state re-read
        tenant = Tenant.objects.select_for_update().get(pk=row.tenant.pk)
        if row.kind in CARRY_AN_UPLOAD_LINK and not lifecycle.is_allowed(
            Operation.ISSUE_UPLOAD_LINK, tenant.status
        ):
            raise ValueError(
                f"{tenant.name} is {tenant.get_status_display().lower()}: no upload link is sent."
            )
        return compose(tenant, f"{row.kind}:{row.tenant_id}:again:{uuid.uuid4().hex}", now)
