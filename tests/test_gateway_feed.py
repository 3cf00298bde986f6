"""The gateway provisioning feed through HTTP against PostgreSQL and Redis: authentication,
what is served, ETags, the fetch audit and the rate limit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from onboarding.gateways import api_keys
from onboarding.models import Gateway, GatewayApiKey, GatewayFetch, UploadInvitation
from onboarding.services import lifecycle, tokens
from onboarding.services.audit import Actor
from tests.feed_support import FEED, active_tenant, default_gateway, fetch, issue_key
from tests.upload_support import invited_tenant

pytestmark = pytest.mark.django_db


def test_a_request_without_a_key_is_401_json(client):
    response = fetch(client, None)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not GatewayFetch.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer gwk_0000000000000000_nope",
        "Bearer not-a-key",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        "Bearer gwk_" + "a" * 300,
        "Bearer gwk_\uff21\uff22_\u00e9",
    ],
)
def test_a_wrong_or_malformed_key_is_401_json(client, header):
    issue_key()

    response = client.get(FEED, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_a_key_with_the_right_id_but_a_wrong_secret_is_401(client):
    key = issue_key()

    response = fetch(client, key[:-4] + "AAAA")

    assert response.status_code == 401


def test_a_revoked_key_stops_working_at_once(client):
    key = issue_key()
    api_key = GatewayApiKey.objects.get()
    api_keys.api_key_revoke(api_key=api_key, actor=Actor.system("test"))

    assert fetch(client, key).status_code == 401


def test_an_expired_key_is_401(client):
    issued_at = timezone.now() - timedelta(days=30)
    key = issue_key(expires_at=timezone.now() - timedelta(minutes=1), now=issued_at)

    assert fetch(client, key).status_code == 401


def test_two_keys_work_side_by_side_during_a_rotation(client):
    old, new = issue_key(label="old"), issue_key(label="new")

    assert fetch(client, old).status_code == 200
    assert fetch(client, new).status_code == 200
    api_keys.api_key_revoke(
        api_key=GatewayApiKey.objects.get(label="old"), actor=Actor.system("test")
    )
    assert fetch(client, old).status_code == 401
    assert fetch(client, new).status_code == 200


def test_only_the_hash_of_a_key_is_stored():
    key = issue_key()
    api_key = GatewayApiKey.objects.get()

    assert key not in api_key.key_hash
    assert api_key.key_id in key
    assert key not in str(GatewayApiKey.objects.values().get())


def test_the_feed_serves_the_active_tenants_domains_and_decrypted_token(client):
    tenant = active_tenant("Acme", token="acme-secret-token-42")
    shared = active_tenant("Globex", option="shared", domain="")
    key = issue_key()

    response = fetch(client, key)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    by_name = {t["name"]: t for t in body["tenants"]}
    assert set(by_name) == {"Acme", "Globex"}
    acme = by_name["Acme"]
    assert acme["id"] == tenant.pk
    assert acme["token"]["value"] == "acme-secret-token-42"
    assert acme["calling_domains"] == [
        {
            "domain": "acme.onpexip.com",
            "option": "onpexip",
            "meeting_id_length": "long",
            "prefix": "",
            "sfb_additional_gateway": False,
            "sfb_gateway_hostname": None,
        }
    ]
    [globex_domain] = by_name["Globex"]["calling_domains"]
    assert globex_domain["domain"] == "gmeet.pexip.me"
    assert globex_domain["meeting_id_length"] == "short"
    assert globex_domain["prefix"] == shared.calling_domains.get().prefix


def test_suspended_invited_and_other_gateways_tenants_are_not_served(client):
    active_tenant("Acme")
    suspended = active_tenant("Initech")
    lifecycle.tenant_suspend(tenant=suspended, actor=Actor.system("test"))
    invited_tenant("Umbrella")
    other_gateway = Gateway.objects.create(
        name="gw2", ip_address="192.0.2.20", hostname="gw2.example.com"
    )
    elsewhere = active_tenant("Hooli")
    elsewhere.gateway = other_gateway
    elsewhere.save(update_fields=["gateway"])

    names = [t["name"] for t in fetch(client, issue_key()).json()["tenants"]]
    other_names = [t["name"] for t in fetch(client, issue_key(other_gateway)).json()["tenants"]]

    assert names == ["Acme"]
    assert other_names == ["Hooli"]


def test_a_revoked_token_is_no_longer_served(client):
    tenant = active_tenant("Acme")
    key = issue_key()
    tokens.token_revoke(tenant=tenant, actor=Actor.system("test"))

    assert fetch(client, key).json()["tenants"] == []


def test_an_unchanged_feed_answers_304_with_no_body(client):
    active_tenant("Acme")
    key = issue_key()
    etag = fetch(client, key)["ETag"]

    response = fetch(client, key, etag=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


@pytest.mark.parametrize(
    "sent",
    [
        "W/{etag}",
        '"other", W/{etag}',
        '{etag}, W/"other"',
        "*",
    ],
)
def test_if_none_match_compares_etags_weakly(client, sent):
    active_tenant("Acme")
    key = issue_key()
    etag = fetch(client, key)["ETag"]

    response = fetch(client, key, etag=sent.format(etag=etag))

    assert response.status_code == 304
    assert response["ETag"] == etag


def test_another_etag_weak_or_strong_gets_the_feed(client):
    active_tenant("Acme")
    key = issue_key()
    fetch(client, key)

    assert fetch(client, key, etag='W/"something-else"').status_code == 200
    assert fetch(client, key, etag='"something-else"').status_code == 200


def test_a_token_rotation_changes_the_etag(client):
    tenant = active_tenant("Acme")
    key = issue_key()
    etag = fetch(client, key)["ETag"]
    link = UploadInvitation.objects.create(
        tenant=tenant, nonce_hash="x", expires_at=timezone.now() + timedelta(days=1)
    )
    tokens.token_store(invitation=link, token="rotated-token-1", actor=Actor.customer())

    response = fetch(client, key, etag=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()["tenants"][0]["token"]["value"] == "rotated-token-1"


def test_a_new_tenant_or_a_suspension_changes_the_etag(client):
    first = active_tenant("Acme")
    key = issue_key()
    etag_one = fetch(client, key)["ETag"]
    active_tenant("Globex")
    etag_two = fetch(client, key, etag=etag_one)["ETag"]
    lifecycle.tenant_suspend(tenant=first, actor=Actor.system("test"))

    assert etag_two != etag_one
    assert fetch(client, key, etag=etag_two)["ETag"] not in (etag_one, etag_two)


def test_every_fetch_is_audited_with_key_ip_status_and_tenants_served(client):
    tenant = active_tenant("Acme")
    key = issue_key()
    etag = fetch(client, key, REMOTE_ADDR="203.0.113.9")["ETag"]
    fetch(client, key, etag=etag, REMOTE_ADDR="203.0.113.9")

    full, not_modified = GatewayFetch.objects.order_by("id")
    api_key = GatewayApiKey.objects.get()
    assert (full.status_code, full.tenant_ids, full.ip_address) == (200, [tenant.pk], "203.0.113.9")
    assert full.api_key == api_key and full.gateway == default_gateway()
    assert (not_modified.status_code, not_modified.tenant_ids) == (304, [])
    assert GatewayApiKey.objects.get().last_used_at == not_modified.fetched_at


def test_the_feed_is_rate_limited_per_key_with_a_json_429(client, settings):
    settings.RATE_GATEWAY_FEED_PER_KEY = "2/m"
    key, other = issue_key(), issue_key()

    statuses = [fetch(client, key).status_code for _ in range(3)]
    response = fetch(client, key)

    assert statuses == [200, 200, 429]
    assert response.json()["error"] == "rate_limited"
    assert response["Retry-After"]
    assert fetch(client, other).status_code == 200
    assert GatewayFetch.objects.count() == 3


def test_only_get_is_allowed(client):
    key = issue_key()

    response = client.post(FEED, HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 405


def test_the_openapi_description_is_served():
    from django.test import Client

    response = Client().get("/api/gateway/v1/openapi.yaml")

    assert response.status_code == 200
    assert b"/api/gateway/v1/config" in response.content
    assert response["Content-Type"] == "application/yaml"
