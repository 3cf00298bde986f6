"""The staff dashboard at 100 and at 10,000 tenants: queries per page and response time.

Seeds tenants in every state (with DNS checks, invitation emails, activations and drift flags,
as tests/dashboard_support.py shapes them) into a fresh PostgreSQL database, then requests the
page through Django's test client as a logged-in superuser: the view, its queries and the
template, without a network hop.

    python bench/dashboard.py [--requests 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database  # noqa: E402 (needs ROOT on the path)

BENCH_DATABASE = "portal_bench_dashboard"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
# nothing here sends email or uses the cache: keep the shared Redis out of it
os.environ["CACHE_URL"] = "locmemcache://"
os.environ["CELERY_BROKER_URL"] = "memory://"
SIZES = (100, 10_000)


def measure(client, url: str, requests: int) -> tuple[int, list[float]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up: templates compiled, connection open
    timings = []
    queries = set()
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"the dashboard answered {response.status_code}")
        queries.add(len(captured))
    if len(queries) != 1:
        raise SystemExit(f"the query count varied between requests: {sorted(queries)}")
    return queries.pop(), timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10, help="timed requests per size")
    args = parser.parse_args()

    fresh_database(BENCH_DATABASE)
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from onboarding.models import AuditEvent, DnsCheck, OutboundEmail, Tenant
    from onboarding.services.heartbeats import heartbeat_record
    from tests.conftest import otp_verified_login
    from tests.dashboard_support import tenants_bulk_create

    now = timezone.now()
    heartbeat_record("outbox_sweeper", now=now)
    client = Client()
    otp_verified_login(
        client, get_user_model().objects.create_superuser("bench", "b@bench.test", "pw")
    )
    url = reverse("admin:onboarding_dashboard")

    print(f"requests per size: {args.requests} (after one warm-up), Django test client")
    seeded = 0
    for size in SIZES:
        started = time.perf_counter()
        tenants_bulk_create(size - seeded, now=now, first=seeded)
        seeding = time.perf_counter() - started
        seeded = size
        queries, timings = measure(client, url, args.requests)
        print(
            f"{Tenant.objects.count():>6} tenants ({AuditEvent.objects.count()} audit events, "
            f"{DnsCheck.objects.count()} DNS checks, {OutboundEmail.objects.count()} emails; "
            f"seeded in {seeding:.1f} s)"
        )
        print(
            f"       queries per page: {queries}   response time: median "
            f"{statistics.median(timings) * 1000:.0f} ms, min {min(timings) * 1000:.0f} ms, "
            f"max {max(timings) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
