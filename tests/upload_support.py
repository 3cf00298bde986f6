"""Shared steps for the upload-page tests: an invited tenant and a fresh link to it."""

from __future__ import annotations

from urllib.parse import urlsplit

from onboarding.models import Tenant
from onboarding.services import invitations, lifecycle, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec


def invited_tenant(name: str = "Acme", **spec: str) -> Tenant:
    """A tenant created and enabled through lifecycle, as staff would (onpexip.com by default)."""
    spec = {"option": "onpexip", "domain": name.lower(), **spec}
    tenant = tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name.lower()}.test",
        token_upload_contacts=[f"admin@{name.lower()}.test"],
        service_notification_contacts=[f"noc@{name.lower()}.test"],
        calling_domains=[CallingDomainSpec(**spec)],
        actor=Actor.system("test"),
    ).tenant
    lifecycle.tenant_enable(tenant=tenant, actor=Actor.system("test"))
    return tenant


def shared_domain_tenant(name: str = "Globex") -> Tenant:
    """A tenant on the shared provider domain: short IDs, so the form asks for its prefix."""
    return invited_tenant(name, option="shared", domain="")


def link_path(tenant: Tenant) -> str:
    """A fresh upload link's path (PORTAL_BASE_URL is http://testserver in tests)."""
    return urlsplit(invitations.invitation_issue(tenant=tenant).url).path


def prefix_field(tenant: Tenant) -> tuple[str, str]:
    """The form field name and value of the tenant's (single) short-ID prefix."""
    calling_domain = tenant.calling_domains.get()
    return f"prefix_{calling_domain.pk}", calling_domain.prefix


def gateway_confirms(tenant: Tenant) -> None:
    """Staff press "Configured on the gateway" (the default gateway is provisioned by hand):
    the gateway has the current token, which sends the email that waited for it."""
    from onboarding.services import provisioning

    provisioning.manual_configured_confirm(tenant=tenant, actor=Actor.system("staff"))
