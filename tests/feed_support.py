"""Shared steps for the provisioning-feed tests: active tenants, gateway keys, fetches."""

from __future__ import annotations

from onboarding.gateways import api_keys
from onboarding.models import Gateway, ProvisioningMode, Tenant, UploadInvitation
from onboarding.services import tokens
from onboarding.services.audit import Actor
from tests.upload_support import invited_tenant

FEED = "/api/gateway/v1/config"


def active_tenant(name: str = "Acme", token: str | None = None, **spec: str) -> Tenant:
    """A tenant that uploaded its token through its link (onpexip.com by default)."""
    tenant = invited_tenant(name, **spec)
    invitation = UploadInvitation.objects.filter(tenant=tenant).latest("created_at")
    tokens.token_store(
        invitation=invitation,
        token=token or f"{name}-token-0123456789",
        actor=Actor.customer("198.51.100.7"),
    )
    tenant.refresh_from_db()
    return tenant


def default_gateway() -> Gateway:
    return Gateway.objects.get(is_default=True)


def issue_key(gateway: Gateway | None = None, **kwargs: object) -> str:
    """A key for the gateway, which from now on takes its tokens from the feed."""
    gateway = gateway or default_gateway()
    Gateway.objects.filter(pk=gateway.pk).update(provisioning=ProvisioningMode.FEED)
    return api_keys.api_key_issue(gateway=gateway, actor=Actor.system("test"), **kwargs).key


def fetch(client, key: str | None, etag: str | None = None, **extra: str):
    headers = {}
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    if etag is not None:
        headers["HTTP_IF_NONE_MATCH"] = etag
    return client.get(FEED, **headers, **extra)
