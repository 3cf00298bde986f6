"""The customer's status page: the upload link, once used, shows where the tenant stands.
Through HTTP against PostgreSQL; never a secret on it."""

import pytest

from onboarding.infra import encryption
from onboarding.models import CallingDomain, SecurityToken, UploadInvitation
from onboarding.services import lifecycle, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.feed_support import fetch, issue_key
from tests.upload_support import gateway_confirms, invited_tenant, link_path

pytestmark = pytest.mark.django_db

TOKEN = "status-page-Token_0987654321"


def upload(client, tenant):
    path = link_path(tenant)
    assert client.post(path, {"token": TOKEN, "trusted": "on"}).status_code == 302
    return path


READY = "The service is ready"
CONFIGURING = "your gateway is being configured"


def one_state(page: str) -> str:
    """The page's single state sentence; the page must not also say another state."""
    states = [s for s in (READY, CONFIGURING, "The service is paused") if s in page]
    assert len(states) == 1, states
    return states[0]


def test_the_used_link_shows_token_fingerprint_time_and_active_since(client):
    tenant = invited_tenant("Acme")
    path = upload(client, tenant)
    gateway_confirms(tenant)

    response = client.get(path)

    page = response.content.decode()
    token = SecurityToken.objects.get(tenant=tenant)
    assert response.status_code == 200
    assert "We received the token for Acme" in page
    assert one_state(page) == READY
    assert "as soon as the service is ready" not in page
    assert "Active since" in page
    assert token.fingerprint in page
    assert f"{token.uploaded_at:%H:%M}" in page
    assert TOKEN not in page and token.ciphertext not in page
    assert response["Cache-Control"] == "no-store"


def test_until_the_gateway_has_the_token_the_page_says_it_is_being_configured(client):
    tenant = invited_tenant("Acme")
    path = upload(client, tenant)

    page = client.get(path).content.decode()

    assert one_state(page) == CONFIGURING
    assert "Active since" not in page and READY not in page
    assert "Being configured with your token" in page


def test_the_page_says_the_gateway_has_not_fetched_then_that_it_has(client):
    key = issue_key()
    tenant = invited_tenant("Acme")
    path = upload(client, tenant)

    before = client.get(path).content.decode()
    fetch(client, key)
    after = client.get(path).content.decode()

    assert one_state(before) == CONFIGURING
    has_it_at = SecurityToken.objects.get(tenant=tenant).gateway_has_token_at
    assert f"Has your token since {has_it_at:%-d %B %Y, %H:%M}" in after
    assert one_state(after) == READY
    assert TOKEN not in after


def test_own_domains_show_their_dns_verdicts(client, dns_server):
    from onboarding.dns import sweep
    from tests.test_dns_status_page import publish_all

    tenant = invited_tenant("Globex")
    own = CallingDomainSpec(option="own", domain="video.globex.test").build(tenant)
    tenant_creation.calling_domain_save(own)
    sweep.calling_domains_check_now([CallingDomain.objects.get(pk=own.pk)])
    path = link_path(tenant)
    client.post(path, {"token": TOKEN, "trusted": "on"})

    page = client.get(path).content.decode()

    assert "video.globex.test" in page
    assert "not verified yet" in page
    assert "SRV _sips._tcp.video.globex.test" in page
    assert "/dns-status/" in page
    publish_all(dns_server, CallingDomain.objects.get(pk=own.pk))
    sweep.calling_domains_check_now([CallingDomain.objects.get(pk=own.pk)])
    assert 'badge text-bg-success">verified' in client.get(path).content.decode()


def test_a_suspended_tenants_used_link_says_the_service_is_paused(client):
    tenant = invited_tenant("Acme")
    path = upload(client, tenant)
    lifecycle.tenant_suspend(tenant=tenant, actor=Actor.system("test"))

    page = client.get(path).content.decode()

    assert one_state(page) == "The service is paused"
    assert page.count("paused") == 1
    assert "Active since" not in page
    assert "new-link" not in page and "Ask for a new link" not in page


def test_the_page_never_shows_the_token_even_decrypted_from_history(client):
    tenant = invited_tenant("Acme")
    path = upload(client, tenant)
    stored = SecurityToken.objects.get(tenant=tenant)

    page = client.get(path).content.decode()

    assert encryption.decrypt(stored.ciphertext) == TOKEN
    assert TOKEN not in page
    assert UploadInvitation.objects.filter(tenant=tenant, used_at__isnull=False).count() == 1
