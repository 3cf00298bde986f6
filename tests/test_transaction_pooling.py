"""Deployments reach PostgreSQL through a pooler in transaction mode: each transaction of a
client may run on another server session, so nothing may rely on session state (prepared
statements, session-level locks or settings).

The production web server (gunicorn, 2 workers) talks to the test database through Debian's
pgbouncer in transaction mode with a pool of two server connections, while threads view an
upload link and upload tokens on fresh links at once.
"""

from __future__ import annotations

import http.client
import secrets
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from django.db import connection

from onboarding.models import SecurityToken, Tenant
from tests.services import GunicornServer, PgBouncer
from tests.upload_support import invited_tenant, link_path

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

VIEWS = 200
UPLOADS = 24
THREADS = 16
# Django accepts the unmasked secret as the form's token; the cookie carries the same secret
CSRF_SECRET = secrets.token_hex(16)


@pytest.fixture
def pgbouncer(test_database_url):
    pooler = PgBouncer(database=connection.settings_dict["NAME"]).start()
    yield pooler
    pooler.cleanup()


@pytest.fixture
def gunicorn_through_pgbouncer(pgbouncer, broker, smtp_sink):
    server = GunicornServer(
        database_url=pgbouncer.database_url,
        broker_url=broker.url,
        email_url=smtp_sink.url,
        # two workers, as deployed; one client on loopback would hit the rate limits at once
        extra_env={"WEB_CONCURRENCY": "2", "RATELIMIT_ENABLE": "false"},
    ).start()
    yield server
    server.cleanup()


def request(server: GunicornServer, method: str, path: str, body: str = "") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        headers = {"Cookie": f"csrftoken={CSRF_SECRET}"}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def errors(server: GunicornServer) -> str:
    """The distinct errors the server logged (the last line of each traceback)."""
    lines = server.output().splitlines()
    found = {line.rsplit("\\n", 1)[-1][-300:] for line in lines if '"level": "ERROR"' in line}
    return "\n".join(sorted(found))


def upload_body(number: int) -> str:
    return urlencode(
        {"csrfmiddlewaretoken": CSRF_SECRET, "token": f"pooled-token-{number}", "trusted": "on"}
    )


def test_concurrent_views_and_uploads_through_a_transaction_pooler_all_succeed(
    gunicorn_through_pgbouncer,
):
    viewed = link_path(invited_tenant("Acme"))
    uploaders = [invited_tenant(f"Pooled{number}") for number in range(UPLOADS)]
    uploads = [link_path(tenant) for tenant in uploaders]
    server = gunicorn_through_pgbouncer

    with ThreadPoolExecutor(THREADS) as pool:
        posted = [
            pool.submit(request, server, "POST", path, upload_body(number))
            for number, path in enumerate(uploads)
        ]
        views = list(pool.map(lambda _n: request(server, "GET", viewed), range(VIEWS)))
        posts = [future.result() for future in posted]

    assert views == [200] * VIEWS, errors(server)
    assert posts == [302] * UPLOADS, errors(server)
    assert SecurityToken.objects.filter(tenant__in=uploaders).count() == UPLOADS
    assert set(
        Tenant.objects.filter(pk__in=[t.pk for t in uploaders]).values_list("status", flat=True)
    ) == {"active"}
