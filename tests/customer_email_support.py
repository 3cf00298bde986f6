"""Tenants of each shape a customer email must fit, and every customer email rendered for one.

The emails are rendered through their composers and read back from the outbox (text and HTML),
exactly as the worker would send them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.utils import timezone

from onboarding.infra import encryption
from onboarding.mail import composers
from onboarding.mail.composers import AUDIENCE, Audience, UploadLink
from onboarding.models import CallingDomain, EmailKind, OutboundEmail, Tenant
from onboarding.services import invitations, lifecycle, tenant_creation, tokens
from onboarding.services.audit import Actor
from onboarding.services.changes import ValueChange
from onboarding.services.tenant_creation import CallingDomainSpec

CUSTOMER_KINDS = [kind for kind, audience in AUDIENCE.items() if audience != Audience.STAFF]
LINK_KINDS = [EmailKind.INITIAL, EmailKind.REMINDER, EmailKind.NEW_LINK]
TOKEN = "customer-email-token-5a7c"


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


def tenant_of_shape(shape: str) -> Tenant:
    """`shared`: the shared domain (SfB address, leave the box unticked), whole organisation;
    `plain`: an onpexip.com subdomain without SfB, whole organisation;
    `own_sfb_limited`: an own domain with the SfB gateway, access limited to two units."""
    specs = {
        "shared": CallingDomainSpec(option="shared"),
        "plain": CallingDomainSpec(option="onpexip", domain="initech"),
        "own_sfb_limited": CallingDomainSpec(
            option="own", domain="video.umbrella.example", sfb_additional_gateway=True
        ),
    }
    limited = shape == "own_sfb_limited"
    tenant = tenant_creation.tenant_create(
        name={"shared": "Globex", "plain": "Initech", "own_sfb_limited": "Umbrella"}[shape],
        main_contact_email="it@customer.test",
        token_upload_contacts=["admin@customer.test"],
        service_notification_contacts=["noc@customer.test"],
        calling_domains=[specs[shape]],
        access_scope="selected" if limited else "whole",
        access_scope_units=["Sales", "Meeting rooms"] if limited else [],
        actor=Actor.system("test"),
    ).tenant
    CallingDomain.objects.filter(tenant=tenant).update(verified_at=timezone.now())
    return lifecycle.tenant_enable(tenant=tenant, actor=Actor.system("test"))


def stored(kind: str) -> Email:
    row = OutboundEmail.objects.filter(kind=kind).latest("created_at", "id")
    payload = json.loads(encryption.decrypt(row.message_ciphertext))
    return Email(row.subject, payload["text"], payload["html"])


def every_customer_email(tenant: Tenant) -> dict[str, Email]:
    """Each customer email kind, composed for `tenant` (enabled, so the initial one is queued)."""
    now = timezone.now()
    link = UploadLink(url="http://testserver/upload/fresh-link/", expires_at=now)
    composers.reminder_queue(tenant, f"reminder:{tenant.pk}", 1, now, link=link)
    composers.new_link_queue(tenant, f"new_link:{tenant.pk}", now, link=link)
    composers.settings_changed_queue(tenant, sample_changes(tenant), f"changed:{tenant.pk}", now)
    issued = invitations.invitation_issue(tenant=tenant)
    token = tokens.token_store(
        invitation=issued.invitation, token=TOKEN, actor=Actor.system("test")
    ).token
    composers.confirmation_queue(tenant, token, now)
    composers.token_replaced_queue(tenant, token, now)
    composers.service_ended_queue(tenant, now)
    own = list(CallingDomain.objects.filter(tenant=tenant, option="own"))
    if own:
        composers.dns_instructions_queue(
            tenant, own[0], f"dns:{tenant.pk}:again", now, dns_status_url="http://testserver/d/"
        )
    kinds = [k for k in CUSTOMER_KINDS if k != EmailKind.DNS_INSTRUCTIONS or own]
    return {kind: stored(kind) for kind in kinds}


def sample_changes(tenant: Tenant) -> list[ValueChange]:
    where = tenant.calling_domains.get().domain
    return [ValueChange("Meeting ID length", where, "Short", "Long", customer_must_change=True)]
