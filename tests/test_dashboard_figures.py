"""The dashboard's figures: median time from enable to active, activations per week, and a
query count that stays the same from a few tenants to 10,000."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onboarding.gateways import provisioning as gateway_jobs
from onboarding.models import Tenant
from onboarding.selectors import activations, dashboard
from onboarding.services import provisioning, tokens
from onboarding.services.audit import Actor
from onboarding.services.heartbeats import heartbeat_record
from tests.dashboard_support import activated, tenants_bulk_create, token_upload
from tests.html_tables import page_tables

pytestmark = pytest.mark.django_db

URL = reverse("admin:onboarding_dashboard")
SYSTEM = Actor.system("test")


def medians_shown(response):
    rows = page_tables(response.content.decode())["medians"].rows[1:]
    return {row[0]: (row[1], row[2]) for row in rows}


# Enable to active -----------------------------------------------------------------------------


def test_it_shows_the_median_time_from_enable_to_active_over_30_and_90_days(staff_client):
    now = timezone.now()
    activated("Alpha", at=now - timedelta(days=2), took=timedelta(days=1))
    activated("Bravo", at=now - timedelta(days=10), took=timedelta(days=2))
    activated("Charlie", at=now - timedelta(days=20), took=timedelta(days=4, hours=6))
    activated("Delta", at=now - timedelta(days=40), took=timedelta(days=10))
    activated("Echo", at=now - timedelta(days=60), took=timedelta(days=12))
    activated("Ancient", at=now - timedelta(days=100), took=timedelta(hours=1))

    response = staff_client.get(URL)

    assert medians_shown(response) == {
        "30 days": ("2 days", "3"),
        "90 days": ("4 days 6 h", "5"),
    }


def test_time_to_ready_runs_until_the_gateway_has_the_token_not_until_the_upload(staff_client):
    now = timezone.now()
    # uploaded a day after enable, on the gateway two days later: three days to ready
    activated(
        "Slow", at=now - timedelta(days=2), took=timedelta(days=3), gateway_after=timedelta(days=2)
    )
    waiting = activated("Waiting", at=now - timedelta(days=2), took=timedelta(days=1))
    tokens.token_revoke(tenant=waiting, actor=SYSTEM, now=now - timedelta(days=1))
    token_upload(waiting, at=now - timedelta(hours=1))  # active, not on the gateway yet
    gateway_jobs.tenant_provision(waiting.pk)  # a manual gateway: staff must act

    response = staff_client.get(URL)

    # Waiting's first activation counts (1 day); its second does not until its gateway has it
    assert medians_shown(response) == {"30 days": ("2 days", "2"), "90 days": ("2 days", "2")}
    waiting_row = page_tables(response.content.decode())["awaiting-gateway"].rows[1]
    assert waiting_row[0] == "Waiting" and "Awaiting staff" in waiting_row[4]


def test_a_revoked_token_restarts_the_clock_for_the_next_activation(staff_client):
    now = timezone.now()
    tenant = activated("Alpha", at=now - timedelta(days=49), took=timedelta(days=1))
    tokens.token_revoke(tenant=tenant, actor=SYSTEM, now=now - timedelta(days=20))
    token_upload(tenant, at=now - timedelta(days=17))
    provisioning.manual_configured_confirm(
        tenant=tenant, actor=SYSTEM, now=now - timedelta(days=17)
    )

    response = staff_client.get(URL)

    # 30 days: only the reactivation, 3 days after the revocation; 90 days: the mean of 1 and 3
    assert medians_shown(response) == {"30 days": ("3 days", "1"), "90 days": ("2 days", "2")}


def test_no_activations_say_so(staff_client):
    assert medians_shown(staff_client.get(URL)) == {
        "30 days": ("no activations", "0"),
        "90 days": ("no activations", "0"),
    }


def test_the_python_fallback_gives_the_same_medians_as_percentile_cont():
    now = timezone.now()
    activated("Alpha", at=now - timedelta(days=3), took=timedelta(days=1))
    activated("Bravo", at=now - timedelta(days=5), took=timedelta(days=2))
    activated("Charlie", at=now - timedelta(days=50), took=timedelta(hours=7))

    in_database = activations.medians_in_database(now=now)

    assert in_database == activations.medians_in_python(now=now)
    # an even number of values: the mean of the two middle ones, as percentile_cont does
    assert in_database[0] == activations.MedianFigure(30, timedelta(days=1, hours=12), 2)
    assert in_database[1] == activations.MedianFigure(90, timedelta(days=1), 3)


# Activations per week -------------------------------------------------------------------------


def test_the_chart_counts_tenants_reaching_active_per_week(staff_client):
    now = timezone.now()
    activated_at = {
        "Alpha": now - timedelta(minutes=5),
        "Bravo": now - timedelta(minutes=10),
        "Charlie": now - timedelta(weeks=3),
        "Delta": now - timedelta(weeks=20),  # before the chart's twelve weeks
    }
    for name, at in activated_at.items():
        activated(name, at=at, took=timedelta(days=1))

    response = staff_client.get(URL)

    weeks = [activations.week_start(now) - timedelta(weeks=n) for n in range(11, -1, -1)]
    expected = {week: 0 for week in weeks}
    for at in list(activated_at.values())[:3]:
        expected[activations.week_start(at)] += 1
    header, counts = page_tables(response.content.decode())["chart-numbers"].rows
    assert header == ["Week of", *(f"{week:%Y-%m-%d}" for week in weeks)]
    assert counts == ["Tenants", *(str(expected[week]) for week in weeks)]
    page = response.content.decode()
    assert '<svg class="activation-chart"' in page
    assert '<title id="chart-title">Tenants ready per week</title>' in page
    assert "3 tenants became ready in the 12 weeks" in page
    assert page.count("<rect ") == 12


# A constant number of queries -----------------------------------------------------------------


def dashboard_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return len(queries), response


def test_the_dashboard_takes_the_same_number_of_queries_at_30_and_at_10000_tenants(staff_client):
    now = timezone.now()
    heartbeat_record("outbox_sweeper", now=now)
    tenants_bulk_create(30, now=now)
    small, _ = dashboard_queries(staff_client)

    tenants_bulk_create(10_000 - 30, now=now, first=30)
    assert Tenant.objects.count() == 10_000
    large, response = dashboard_queries(staff_client)

    assert small == large
    assert large <= 20
    page = page_tables(response.content.decode())
    # the lists are capped, the totals are not
    assert len(page["stuck"].rows) == dashboard.LIST_LIMIT + 1
    assert f"the oldest {dashboard.LIST_LIMIT} shown" in page["stuck"].caption
    assert sum(int(row[1]) for row in page["states"].rows[1:7]) == 10_000
