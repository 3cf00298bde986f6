"""Rate limits answer 429 with a readable page, and a Redis outage never turns an upload into
an error: the limits fail open (architecture.md, "Rate limits").

The limits count in real Redis: the shared one under a key prefix of each test's own (conftest's
`isolated_cache`), or a dedicated redis-server for the tests that stop it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_redis import get_redis_connection

from onboarding.models import EmailKind, OutboundEmail, SecurityToken, UploadInvitation
from tests.upload_support import invited_tenant, link_path

pytestmark = pytest.mark.django_db

TOKEN = "resilient-Token_0123456789"


def upload(client, link, token=TOKEN):
    return client.post(link, {"token": token, "trusted": "on"})


def assert_readable_429(response):
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert "support@provider.test" in response.content.decode()
    assert response["Retry-After"]


def test_uploads_from_one_address_are_limited_across_links(client, settings):
    settings.RATE_UPLOAD_POST_PER_IP = "2/m"
    first, second = link_path(invited_tenant("Acme")), link_path(invited_tenant("Globex"))

    codes = [upload(client, link, "bad token").status_code for link in (first, second)]
    limited = upload(client, first)

    assert codes == [400, 400]
    assert_readable_429(limited)
    assert not SecurityToken.objects.exists()


def test_asking_for_new_links_is_limited_per_link(client, settings):
    link = link_path(invited_tenant())
    UploadInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    settings.RATE_NEW_LINK_PER_LINK = "3/h"

    codes = [client.post(f"{link}new-link/").status_code for _ in range(3)]
    limited = client.post(f"{link}new-link/")

    assert codes == [200, 200, 200]
    assert_readable_429(limited)
    # the presses after the first fall within the debounce: the first link is on its way
    assert OutboundEmail.objects.filter(kind=EmailKind.NEW_LINK).count() == 1


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_starts_with_fresh_counters_in_its_own_key_prefix(client, settings, run):
    """Run twice with the same address and limit: the second run must not inherit the first's
    counts, and the counters must live under this test's own prefix in Redis."""
    settings.RATE_UPLOAD_POST_PER_IP = "1/h"
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    link = link_path(invited_tenant())

    codes = [upload(client, link, "bad token").status_code for _ in range(2)]

    assert codes == [400, 429]
    assert prefix.startswith("test-")
    assert list(get_redis_connection("default").scan_iter(f"{prefix}:*"))


@pytest.fixture
def redis_cache(redis_server, settings):
    """The cache (and so the rate limits) on a dedicated redis-server this test may stop, with
    the options the settings give a Redis cache (IGNORE_EXCEPTIONS, short socket timeouts)."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": redis_server.url}}
    assert settings.CACHES["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
    return redis_server


def test_with_redis_stopped_the_page_opens_and_the_token_is_stored(client, redis_cache):
    link = link_path(invited_tenant())
    redis_cache.stop()

    page = client.get(link)
    stored = upload(client, link)

    assert not redis_cache.answers()
    assert page.status_code == 200
    assert stored.status_code == 302
    assert SecurityToken.objects.count() == 1
    assert client.get(link).status_code == 200  # the received page


def test_with_redis_stopped_the_limits_fail_open(client, redis_cache, settings):
    settings.RATE_UPLOAD_POST_PER_LINK = "1/h"
    counted = link_path(invited_tenant("Acme"))
    while_up = [upload(client, counted, "bad token").status_code for _ in range(2)]
    redis_cache.stop()
    link = link_path(invited_tenant("Globex"))

    while_down = [upload(client, link, "bad token").status_code for _ in range(3)]

    assert while_up == [400, 429]  # the limit really counts in this Redis while it runs
    assert while_down == [400, 400, 400]
    assert upload(client, link).status_code == 302


def test_with_redis_stopped_a_new_link_can_still_be_asked_for(client, redis_cache):
    link = link_path(invited_tenant())
    UploadInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    redis_cache.stop()

    response = client.post(f"{link}new-link/")

    assert response.status_code == 200
    assert OutboundEmail.objects.filter(kind=EmailKind.NEW_LINK).count() == 1
