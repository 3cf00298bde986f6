"""The provisioning feed's response time for a gateway with N active tenants: full and 304.

Creates N active tenants on the default gateway (bulk: setup is not timed), each with one
calling domain and an encrypted token the gateway has already fetched (the steady state), then
times GET /api/gateway/v1/config through Django's whole request stack (middleware, view,
PostgreSQL, the fetch audit row), full and with a matching If-None-Match.

    python bench/feed.py [--tenants 10000] [--repeat 7]
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

BENCH_DATABASE = "portal_bench_feed"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"


def create_tenants(count: int) -> str:
    """N active tenants with a calling domain and a current token each; returns an API key."""
    from django.utils import timezone

    from onboarding.gateways import api_keys
    from onboarding.infra import encryption
    from onboarding.models import CallingDomain, Gateway, SecurityToken, Tenant, TenantStatus
    from onboarding.services.audit import Actor

    gateway = Gateway.objects.get(is_default=True)
    now = timezone.now()
    tenants = Tenant.objects.bulk_create(
        Tenant(
            name=f"Bench {n}",
            main_contact_email=f"it@t{n}.bench.test",
            gateway=gateway,
            status=TenantStatus.ACTIVE,
            created_at=now,
            status_changed_at=now,
        )
        for n in range(count)
    )
    CallingDomain.objects.bulk_create(
        CallingDomain(
            tenant=tenant,
            option="onpexip",
            domain=f"t{n}.onpexip.com",
            meeting_id_length="short" if n % 4 == 0 else "long",
            prefix=str(n % 10) if n % 4 == 0 else "",
            sfb_additional_gateway=n % 3 == 0,
            created_at=now,
        )
        for n, tenant in enumerate(tenants)
    )
    SecurityToken.objects.bulk_create(
        SecurityToken(
            tenant=tenant,
            ciphertext=encryption.encrypt(f"bench-token-{n:06d}-abcdefghijklmnopqrstuvwxyz"),
            fingerprint=encryption.fingerprint(f"bench-token-{n:06d}"),
            uploaded_at=now,
            fetched_by_gateway_at=now,
        )
        for n, tenant in enumerate(tenants)
    )
    return api_keys.api_key_issue(gateway=gateway, actor=Actor.system("bench")).key


def timed(
    client, key: str, etag: str | None, repeat: int
) -> tuple[list[float], list[float], object]:
    """Wall time per request, and this process's CPU time (the portal's share, without the
    database's: on a shared machine the wall time also holds the wait for a core)."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if etag:
        headers["HTTP_IF_NONE_MATCH"] = etag
    durations, cpu, response = [], [], None
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get("/api/gateway/v1/config", **headers)
        durations.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return durations, cpu, response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    fresh_database(BENCH_DATABASE)
    from django.conf import settings
    from django.test import Client

    settings.RATELIMIT_ENABLE = False  # the benchmark repeats faster than a gateway would poll
    settings.ALLOWED_HOSTS = ["testserver"]
    key = create_tenants(args.tenants)
    client = Client()

    full, full_cpu, response = timed(client, key, None, args.repeat)
    assert response.status_code == 200, response.status_code
    served = len(response.json()["tenants"])
    size = len(response.content)
    etag = response["ETag"]
    not_modified, not_modified_cpu, response = timed(client, key, etag, args.repeat)
    assert response.status_code == 304, response.status_code

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1000:.0f} ms, best {min(values) * 1000:.0f} ms"

    print(f"feed for a gateway with {served} active tenants ({size / 1e6:.1f} MB JSON):")
    print(f"  full (200): {ms(full)}; portal CPU {ms(full_cpu)} ({args.repeat} requests)")
    print(
        f"  unchanged (304): {ms(not_modified)}; portal CPU {ms(not_modified_cpu)} "
        f"({args.repeat} requests)"
    )
    print(f"  load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
