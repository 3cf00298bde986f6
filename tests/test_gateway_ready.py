""" "Ready" means ready: the confirmation waits until the gateway has the token. A gateway
that pulls the feed has it once it fetched it; a manual one once staff confirm. Through HTTP
against PostgreSQL. (Infinity gateways: tests/test_infinity_provisioning.py.)"""

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from onboarding.dns import notices, sweep
from onboarding.dns.schedule import STATE_FIELDS, DomainState
from onboarding.models import (
    CallingDomain,
    EmailKind,
    Gateway,
    OutboundEmail,
    ProvisioningMode,
    SecurityToken,
    UploadInvitation,
)
from onboarding.services import provisioning, tenant_creation, tokens
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.concurrency import holding_until_the_other_side_waits_or_ends, run_together
from tests.feed_support import active_tenant, fetch, issue_key
from tests.upload_support import invited_tenant

pytestmark = pytest.mark.django_db


def confirmations(tenant=None):
    rows = OutboundEmail.objects.filter(kind=EmailKind.CONFIRMATION)
    return rows.filter(tenant=tenant) if tenant else rows


def test_on_a_manual_gateway_the_confirmation_waits_for_staff_to_confirm():
    tenant = active_tenant("Acme")
    assert not confirmations(tenant).exists()
    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at is None

    provisioning.manual_configured_confirm(tenant=tenant, actor=Actor.system("staff"))

    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at is not None
    assert confirmations(tenant).count() == 1


def test_with_an_api_key_the_confirmation_waits_for_the_gateways_fetch(client):
    key = issue_key()
    tenant = active_tenant("Acme")
    assert not confirmations().exists()
    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at is None

    fetch(client, key)

    token = SecurityToken.objects.get(tenant=tenant)
    assert token.gateway_has_token_at is not None
    [confirmation] = confirmations(tenant)
    assert confirmation.recipients == ["noc@acme.test"]


def test_a_second_fetch_neither_queues_again_nor_moves_the_fetch_time(client):
    key = issue_key()
    tenant = active_tenant("Acme")
    fetch(client, key)
    first = SecurityToken.objects.get(tenant=tenant).gateway_has_token_at

    fetch(client, key)

    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at == first
    assert confirmations(tenant).count() == 1


def test_a_304_fetch_marks_nothing(client):
    key = issue_key()
    active_tenant("Acme")
    etag = fetch(client, key)["ETag"]
    tenant = active_tenant("Globex")
    # the gateway presents the old ETag: the feed changed, so it gets a 200 with Globex's token
    fetch(client, key, etag=etag)

    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at is not None


def test_a_replacement_token_is_fetched_without_a_second_confirmation(client):
    key = issue_key()
    tenant = active_tenant("Acme")
    fetch(client, key)
    link = UploadInvitation.objects.create(
        tenant=tenant, nonce_hash="x", expires_at=timezone.now() + timedelta(days=1)
    )
    tokens.token_store(invitation=link, token="second-token", actor=Actor.customer())

    fetch(client, key)

    new = SecurityToken.objects.get(tenant=tenant, state="current")
    assert new.is_replacement and new.gateway_has_token_at is not None
    assert confirmations(tenant).count() == 1
    assert OutboundEmail.objects.filter(kind=EmailKind.TOKEN_REPLACED, tenant=tenant).count() == 1


def test_a_fetch_by_a_gateway_that_is_not_in_feed_mode_does_not_make_it_ready(client):
    key = issue_key()
    Gateway.objects.update(provisioning=ProvisioningMode.MANUAL)
    tenant = active_tenant("Acme")

    assert fetch(client, key).status_code == 200

    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at is None
    assert not confirmations(tenant).exists()


def test_a_fetch_before_dns_verifies_leaves_the_confirmation_to_the_verification(
    client, dns_server
):
    from tests.test_dns_status_page import publish_all

    key = issue_key()
    tenant = invited_tenant("Globex")
    own = CallingDomainSpec(option="own", domain="video.globex.test").build(tenant)
    tenant_creation.calling_domain_save(own)
    invitation = UploadInvitation.objects.get(tenant=tenant)
    tokens.token_store(invitation=invitation, token="globex-token", actor=Actor.customer())

    body = fetch(client, key).json()
    assert [d["domain"] for d in body["tenants"][0]["calling_domains"]] == ["globex.onpexip.com"]
    assert not confirmations(tenant).exists()

    publish_all(dns_server, CallingDomain.objects.get(pk=own.pk))
    sweep.dns_sweep()

    assert confirmations(tenant).count() == 1
    assert "video.globex.test" in [
        d["domain"] for d in fetch(client, key).json()["tenants"][0]["calling_domains"]
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["dns verifies", "gateway gets the token"])
def test_the_last_domain_verified_as_the_gateway_gets_the_token_sends_the_confirmation(first):
    """Each side checks the other's fact before it commits: whichever runs second must see what
    the first did, or neither sends the confirmation the customer waits for."""
    tenant = invited_tenant("Globex")
    own = CallingDomainSpec(option="own", domain="video.globex.test").build(tenant)
    tenant_creation.calling_domain_save(own)
    invitation = UploadInvitation.objects.get(tenant=tenant)
    tokens.token_store(invitation=invitation, token="globex-token", actor=Actor.customer())
    token = SecurityToken.objects.get(tenant=tenant)
    first_has_checked, dns_done, gateway_done = (threading.Event() for _ in range(3))

    def dns_verifies() -> None:
        if first != "dns verifies":
            first_has_checked.wait(10)
        with transaction.atomic():
            # as the DNS sweep writes a verdict (onboarding/dns/sweep.py)
            [state] = (
                CallingDomain.objects.select_for_update()
                .filter(pk=own.pk)
                .values_list("pk", *STATE_FIELDS)
            )
            CallingDomain.objects.filter(pk=own.pk).update(verified_at=timezone.now())
            notices.domains_verified_record([DomainState(*state)], timezone.now())
            if first == "dns verifies":
                first_has_checked.set()
                holding_until_the_other_side_waits_or_ends(gateway_done)
        dns_done.set()

    def gateway_gets_the_token() -> None:
        if first != "gateway gets the token":
            first_has_checked.wait(10)
        with transaction.atomic():
            tokens.gateway_has_token_mark(token, actor=Actor.system("staff"), how="test")
            if first == "gateway gets the token":
                first_has_checked.set()
                holding_until_the_other_side_waits_or_ends(dns_done)
        gateway_done.set()

    results = run_together(dns_verifies, gateway_gets_the_token)

    assert results == [None, None]
    assert confirmations(tenant).count() == 1
