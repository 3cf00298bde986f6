"""Shared steps for the tests of live changes and offboarding: tenants in each state, the
rendered text of an email recorded in the outbox, and a live tenant's change form as posted."""

from __future__ import annotations

import json

from onboarding.infra import encryption
from onboarding.models import EmailKind, OutboundEmail, Tenant
from onboarding.services import invitations, lifecycle, tenant_creation, tokens
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.upload_support import invited_tenant

TEST = Actor.system("test")
TOKEN = "live-change-token-4c2d"


def draft_tenant(name: str = "Acme", **spec: str) -> Tenant:
    spec = {"option": "onpexip", "domain": name.lower(), **spec}
    return tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name.lower()}.test",
        token_upload_contacts=[f"admin@{name.lower()}.test"],
        service_notification_contacts=[f"noc@{name.lower()}.test"],
        calling_domains=[CallingDomainSpec(**spec)],
        actor=TEST,
    ).tenant


def active_tenant(name: str = "Acme", **spec: str) -> Tenant:
    """Invited, then the customer uploads the token: active."""
    tenant = invited_tenant(name, **spec)
    issued = invitations.invitation_issue(tenant=tenant)
    tokens.token_store(
        invitation=issued.invitation, token=TOKEN, actor=Actor.customer("198.51.100.7")
    )
    tenant.refresh_from_db()
    return tenant


def tenant_in(status: str, name: str = "Acme") -> Tenant:
    """A tenant brought to this state through lifecycle."""
    if status == "draft":
        return draft_tenant(name)
    if status == "dns_pending":
        return draft_tenant(name, option="own", domain=f"video.{name.lower()}.test")
    if status == "invited":
        return invited_tenant(name)
    tenant = active_tenant(name)
    if status == "suspended":
        lifecycle.tenant_suspend(tenant=tenant, actor=TEST)
    if status == "offboarded":
        from onboarding.services import offboarding

        offboarding.tenant_offboard(tenant=tenant, actor=TEST)
    tenant.refresh_from_db()
    return tenant


def rendered(row: OutboundEmail) -> tuple[str, str]:
    """The text and HTML bodies of an unsent outbox row."""
    payload = json.loads(encryption.decrypt(row.message_ciphertext))
    return payload["text"], payload["html"]


def settings_changed_emails(tenant: Tenant) -> list[OutboundEmail]:
    return list(
        OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.SETTINGS_CHANGED).order_by("id")
    )


def edit_data(tenant: Tenant, *, new_domain: dict | None = None, **domain_overrides: str) -> dict:
    """The tenant's change form as the page would post it, with overrides for its domain."""
    [domain] = tenant.calling_domains.customer_facing()
    data = {
        "name": tenant.name,
        "main_contact_email": tenant.main_contact_email,
        "token_upload_contacts": "\n".join(tenant.token_upload_contacts),
        "service_notification_contacts": "\n".join(tenant.service_notification_contacts),
        "gateway": str(tenant.gateway_id),
        "access_scope": tenant.access_scope,
        "access_scope_units": "\n".join(tenant.access_scope_units),
        "teams_interop_domains": "",
        "calling_domains-TOTAL_FORMS": "2" if new_domain else "1",
        "calling_domains-INITIAL_FORMS": "1",
        "calling_domains-MIN_NUM_FORMS": "1",
        "calling_domains-MAX_NUM_FORMS": "1000",
        "calling_domains-0-id": str(domain.pk),
        "calling_domains-0-tenant": str(tenant.pk),
        "calling_domains-0-option": domain.option,
        "calling_domains-0-domain": domain.domain,
        "calling_domains-0-meeting_id_length": domain.meeting_id_length,
        "calling_domains-0-prefix": domain.prefix,
        "emails-TOTAL_FORMS": "0",
        "emails-INITIAL_FORMS": "0",
    }
    data.update({f"calling_domains-0-{k}": v for k, v in domain_overrides.items()})
    for key, value in (new_domain or {}).items():
        data[f"calling_domains-1-{key}"] = value
    if new_domain:
        data["calling_domains-1-tenant"] = str(tenant.pk)
    return data
