"""Two customers (or one double click) posting the same link at once store exactly one token.

Each request runs in its own thread with its own Django test client and database connection,
against committed data in PostgreSQL; nothing is mocked.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from onboarding.models import AuditEvent, EmailKind, OutboundEmail, SecurityToken, Tenant
from tests.services import wait_until
from tests.upload_support import gateway_confirms, invited_tenant, link_path

pytestmark = pytest.mark.django_db(transaction=True)


def post_together(
    link: str, tokens: list[str]
) -> tuple[list[tuple[int, str]], list[threading.Thread]]:
    """POST each token to the link from its own thread, released at the same instant; the
    results fill in as the threads finish (see `finish`)."""
    barrier = threading.Barrier(len(tokens))
    results: list[tuple[int, str]] = [(0, "")] * len(tokens)

    def post(index: int, token: str) -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            response = client.post(link, {"token": token, "trusted": "on"})
            results[index] = (response.status_code, response.content.decode())
        finally:
            connections.close_all()  # this thread's connections only

    threads = [threading.Thread(target=post, args=pair) for pair in enumerate(tokens)]
    for thread in threads:
        thread.start()
    return results, threads


def finish(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()


def assert_exactly_one_upload_recorded(tenant: Tenant) -> None:
    assert SecurityToken.objects.filter(tenant=tenant).count() == 1
    assert AuditEvent.objects.filter(tenant=tenant, action="token_stored").count() == 1
    # one token, so one confirmation once the gateway has it
    gateway_confirms(tenant)
    gateway_confirms(tenant)
    assert OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.CONFIRMATION).count() == 1


def test_two_simultaneous_uploads_on_one_link_store_one_token_and_the_loser_sees_received():
    tenant = invited_tenant()
    link = link_path(tenant)

    results, threads = post_together(link, ["first-token", "second-token"])
    finish(threads)

    assert sorted(status for status, _page in results) == [200, 302]
    loser_page = next(page for status, page in results if status == 200)
    assert "We received the token for Acme" in loser_page
    assert_exactly_one_upload_recorded(tenant)


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction caches the view
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_both_uploads_past_the_link_check_still_store_one_token_once_the_row_is_released():
    """The worst interleaving, forced: the tenant row is held until both requests have checked
    the link (it is valid for both) and wait on the row; then one consumes it, one is refused."""
    tenant = invited_tenant()
    link = link_path(tenant)

    with transaction.atomic():
        Tenant.objects.select_for_update().get(pk=tenant.pk)
        results, threads = post_together(link, ["first-token", "second-token"])
        wait_until(lambda: waiting_on_locks() >= 2, timeout=20, what="both uploads at the lock")
    finish(threads)

    assert sorted(status for status, _page in results) == [200, 302]
    assert "We received the token" in next(page for status, page in results if status == 200)
    assert_exactly_one_upload_recorded(tenant)
