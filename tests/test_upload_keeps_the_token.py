"""A mistake on the upload form never costs the token (domain.md, "The journey" step 5): without
JavaScript the refused form comes back with the token still in its field, and that is safe: the
page is never stored, the value reaches no log and no cache, and error reports hide it."""

import logging
import re

import pytest
from django.views.debug import SafeExceptionReporterFilter
from django_redis import get_redis_connection

from onboarding.models import SecurityToken
from tests.upload_support import link_path, prefix_field, shared_domain_tenant

pytestmark = pytest.mark.django_db

TOKEN = "kept-Token_0123456789abcdefXYZ"


@pytest.fixture
def tenant():
    return shared_domain_tenant()


@pytest.fixture
def link(tenant):
    return link_path(tenant)


def token_field(page: str) -> str:
    [field] = re.findall(r'<input type="password" name="token"[^>]*>', page)
    return field


def test_a_wrong_prefix_is_refused_and_the_token_stays_in_its_field(client, link, tenant):
    field, prefix = prefix_field(tenant)

    response = client.post(link, {"token": TOKEN, field: "1234", "trusted": "on"})

    page = response.content.decode()
    assert response.status_code == 400
    assert f'value="{TOKEN}"' in token_field(page)
    assert f"which is {prefix}" in page
    assert not SecurityToken.objects.exists()


def test_a_missing_tick_is_refused_and_the_token_stays_in_its_field(client, link, tenant):
    field, prefix = prefix_field(tenant)

    response = client.post(link, {"token": TOKEN, field: prefix})

    assert response.status_code == 400
    assert f'value="{TOKEN}"' in token_field(response.content.decode())
    assert "Set the token to trusted in Google Admin, then tick this box." in (
        response.content.decode()
    )


def test_the_refused_page_that_holds_the_token_is_never_stored(client, link, tenant):
    field, _prefix = prefix_field(tenant)

    response = client.post(link, {"token": TOKEN, field: "1234", "trusted": "on"})

    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_kept_token_reaches_no_log_record(client, link, tenant, caplog):
    caplog.set_level(logging.DEBUG)
    field, _prefix = prefix_field(tenant)

    client.post(link, {"token": TOKEN, field: "1234", "trusted": "on"})

    assert "Bad Request: /upload/[redacted]/" in caplog.text
    assert TOKEN not in caplog.text
    assert all(TOKEN not in repr(vars(record)) for record in caplog.records)


def test_the_kept_token_reaches_no_cache(client, link, tenant):
    field, _prefix = prefix_field(tenant)
    redis = get_redis_connection("default")

    client.post(link, {"token": TOKEN, field: "1234", "trusted": "on"})

    keys = redis.keys("*")
    assert keys  # the rate limits counted this request: the cache was in use
    for key in keys:
        assert TOKEN.encode() not in key
        assert TOKEN.encode() not in (redis.dump(key) or b"")


def test_error_reports_hide_the_token(client, link, tenant):
    field, _prefix = prefix_field(tenant)

    response = client.post(link, {"token": TOKEN, field: "1234", "trusted": "on"})

    shown = SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request)
    assert shown["token"] != TOKEN and set(shown["token"]) == {"*"}


def test_a_five_digit_prefix_is_an_error_and_is_shown_whole_never_cut(client, link, tenant):
    field, prefix = prefix_field(tenant)
    [prefix_input] = re.findall(rf'<input [^>]*name="{field}"[^>]*>', client.get(link).text)

    response = client.post(link, {"token": TOKEN, field: prefix + "1", "trusted": "on"})

    assert "maxlength" not in prefix_input  # a browser would cut a paste to fit, silently
    assert response.status_code == 400
    assert f'value="{prefix}1"' in response.content.decode()
    assert f"which is {prefix}" in response.content.decode()


def test_the_checks_before_sending_come_from_the_portals_own_script(client, link, tenant):
    _field, prefix = prefix_field(tenant)

    page = client.get(link).content.decode()
    script = client.get("/static/onboarding/upload_checks.js")

    assert '<script src="/static/onboarding/upload_checks.js" defer></script>' in page
    assert f'data-expected-prefix="{prefix}"' in page
    assert "data-required-message=" in page
    assert script.status_code == 200
    assert "script-src 'self'" in client.get(link)["Content-Security-Policy"]
