"""DNS verification throughput against the resolver floor.

Verifies N own domains (three SRV records and one TXT each) through the portal's real code path
(the sweeper's claim with SELECT ... FOR UPDATE SKIP LOCKED, the lookups in the bounded pool,
the verdicts, the batched writes) on PostgreSQL (database portal_bench_dns), against a local DNS
server that delays every answer by D ms. In the same run it resolves the same queries with bare
dnspython at the same concurrency against the same server: the resolver floor. Each run is a
subprocess of a parent that never loads Django, so each peak RSS (resource.getrusage, which on
Linux also counts the image the child was forked from) is that run's alone. Floor and portal
runs alternate, R times each; the best of each is reported (this machine is shared).

Both sides run the same concurrency model: `pool` threads, each taking the next domain and
asking its four questions one after another, with the same dnspython calls and the same
EDNS options. CPU seconds are printed per side: the checking process (user + system), the
PostgreSQL backend that served the portal run, and the DNS server during each run, so that a
busy machine's noise in wall time can be told from work one side does and the other not.

    python bench/dns_verify.py [--domains 1000 10000] [--delay-ms 50] [--pool 100] [--repeat 3]

The DNS server is cheap per answer on purpose (answers precomputed as wire bytes, asyncio, its
own process): on a small machine a costly server, not the client, would set the pace.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database  # noqa: E402 (needs ROOT on the path)
from bench.dns_bench_server import (  # noqa: E402
    EDNS_PAYLOAD,
    DnsServerProcess,
    domain_name,
    ownership_code,
    questions,
)

BENCH_DATABASE = "portal_bench_dns"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
# The two clients (child processes) ---------------------------------------------------------------


def portal_run(pool: int) -> dict[str, float]:
    """The sweeper, exactly as the Celery task calls it, until nothing is due."""
    import django

    django.setup()
    from django.db import connection

    from onboarding.dns import sweep as dns_checks
    from onboarding.models import CallingDomain

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    db_cpu_started = process_cpu_seconds(backend)
    started, cpu_started = time.perf_counter(), cpu_seconds()
    checked = verified = 0
    while True:
        result = dns_checks.dns_sweep(concurrency=pool)
        checked += result.checked
        verified += result.verified
        if not result.checked:
            break
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    db_cpu = process_cpu_seconds(backend) - db_cpu_started
    assert CallingDomain.objects.filter(verified_at__isnull=False).count() == verified
    return {
        "seconds": seconds,
        "cpu": cpu,
        "db_cpu": db_cpu,
        "checked": checked,
        "verified": verified,
        "baseline_kb": baseline_kb,
        "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def floor_run(domains: int, pool: int, port: int) -> dict[str, float]:
    """Bare dnspython: the same queries from `pool` threads, each taking the next domain and
    asking its four questions one after another (no future or result object per domain)."""
    import dns.message
    import dns.query

    numbers = iter(range(domains))  # next() on it is atomic under the GIL
    answers = [0] * pool

    def resolve(worker: int) -> None:
        while (number := next(numbers, None)) is not None:
            for name, rdtype in questions(number):
                query = dns.message.make_query(name, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
                dns.query.udp(query, "127.0.0.1", port=port, timeout=10)
                answers[worker] += 1

    threads = [threading.Thread(target=resolve, args=(worker,)) for worker in range(pool)]
    started, cpu_started = time.perf_counter(), cpu_seconds()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answered = sum(answers)
    return {
        "seconds": time.perf_counter() - started,
        "cpu": cpu_seconds() - cpu_started,
        "answered": answered,
        "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process on this machine (the PostgreSQL backend)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(kind: str, env: dict[str, str], *args: str) -> dict[str, float]:
    finished = subprocess.run(
        [sys.executable, __file__, "--child", kind, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the {kind} run failed:\n{finished.stderr[-4000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


# Setting up --------------------------------------------------------------------------------------


def django_environment(port: int = 0, pool: int = 100) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": DATABASE_URL,
        "DNS_NAMESERVERS": "127.0.0.1",
        "DNS_PORT": str(port),
        "DNS_CHECK_CONCURRENCY": str(pool),
        "LOG_LEVEL": "WARNING",
    }


def setup(domains: int) -> str:
    """A fresh, migrated, analysed database with N due own domains; returns their SIP host."""
    prepare_database()
    target = create_domains(domains)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as autovacuum keeps them in production
    return target


def prepare_database() -> None:
    """Migrate the database the parent made fresh for this run (see main)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def create_domains(count: int) -> str:
    """N dns_pending tenants with one own domain each, all due now (bulk: setup is not timed).
    Returns the SIP/H.323 host their records must point at."""
    from django.db import connection
    from django.utils import timezone

    from onboarding.models import CallingDomain, Gateway, Tenant, TenantStatus

    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE "{Tenant._meta.db_table}" CASCADE')
    gateway = Gateway.objects.get(is_default=True)
    now = timezone.now()
    tenants = Tenant.objects.bulk_create(
        Tenant(
            name=f"Bench {n}",
            main_contact_email=f"it@d{n}.bench.test",
            gateway=gateway,
            status=TenantStatus.DNS_PENDING,
            created_at=now,
            status_changed_at=now,
        )
        for n in range(count)
    )
    CallingDomain.objects.bulk_create(
        CallingDomain(
            tenant=tenant,
            option="own",
            domain=domain_name(n),
            ownership_code=ownership_code(n),
            next_check_at=now,
            dns_pending_since=now,
            created_at=now,
        )
        for n, tenant in enumerate(tenants)
    )
    return gateway.effective_sip_host


# Running -----------------------------------------------------------------------------------------


def measure(domains: int, delay_ms: float, pool: int, repeat: int) -> dict[str, float]:
    env = django_environment(pool=pool)
    target = child("setup", env, "--domains", str(domains))["target"]
    server = DnsServerProcess(domains, delay_ms, target)
    floors, portals = [], []
    try:
        env = django_environment(server.port, pool)
        for attempt in range(repeat):
            if attempt:  # every portal run starts from N unverified, due domains
                child("setup", env, "--domains", str(domains))
            floor_args = ["--domains", str(domains), "--pool", str(pool)]
            _answered, server_cpu = server.counters()
            floors.append(child("floor", env, *floor_args, "--port", str(server.port)))
            before, server_cpu_between = server.counters()
            floors[-1]["server_cpu"] = server_cpu_between - server_cpu
            portals.append(child("portal", env, "--pool", str(pool)))
            answered, server_cpu_after = server.counters()
            portals[-1]["queries"] = answered - before
            portals[-1]["server_cpu"] = server_cpu_after - server_cpu_between
    finally:
        server.stop()
    for portal in portals:
        if portal["verified"] != domains:
            raise RuntimeError(f"only {portal['verified']} of {domains} domains verified")
    best = min(portals, key=lambda run: run["seconds"])
    return {
        "domains": domains,
        "queries": best["queries"],
        "limit": 4 * domains * delay_ms / 1000 / pool,
        "floor": min(run["seconds"] for run in floors),
        "portal": best["seconds"],
        "floors": [run["seconds"] for run in floors],
        "floor_cpu": [run["cpu"] for run in floors],
        "portal_cpu": [run["cpu"] for run in portals],
        "db_cpu": [run["db_cpu"] for run in portals],
        "floor_server_cpu": [run["server_cpu"] for run in floors],
        "portal_server_cpu": [run["server_cpu"] for run in portals],
        "portals": [run["seconds"] for run in portals],
        "verified": best["verified"],
        "baseline_mb": max(run["baseline_kb"] for run in portals) / 1024,
        "peak_mb": max(run["peak_kb"] for run in portals) / 1024,
    }


def report(rows: list[dict[str, float]], delay_ms: float, pool: int, repeat: int) -> None:
    print(
        f"DNS verification: pool {pool}, every answer delayed {delay_ms:g} ms, "
        f"4 queries per domain (3 SRV + 1 TXT), best of {repeat} runs each"
    )
    print(
        f"{'domains':>8} {'queries':>8} {'limit s':>8} {'floor s':>8} {'portal s':>9} "
        f"{'portal/floor':>13} {'portal/limit':>13} {'floor/limit':>12} {'verified':>9} "
        f"{'peak RSS MB':>12}"
    )
    for r in rows:
        print(
            f"{r['domains']:>8} {r['queries']:>8} {r['limit']:>8.2f} {r['floor']:>8.2f} "
            f"{r['portal']:>9.2f} {r['portal'] / r['floor']:>13.2f} "
            f"{r['portal'] / r['limit']:>13.2f} {r['floor'] / r['limit']:>12.2f} "
            f"{r['verified']:>9} {r['peak_mb']:>12.1f}"
        )
    print("limit = queries x delay / pool (latency-bound); floor = bare dnspython, same pool;")
    print(
        "portal = the sweeper: claim, lookups, verdicts, PostgreSQL writes "
        f"(process peak before the sweep {rows[0]['baseline_mb']:.1f} MB)"
    )
    for r in rows:
        print(f"portal / floor at N={r['domains']}: {r['portal'] / r['floor']:.2f} (goal <= 1.20)")
        print(f"  every run, wall s floor/portal: {_pairs(r['floors'], r['portals'])}")
        print(
            f"  every run, checking process CPU s floor/portal: "
            f"{_pairs(r['floor_cpu'], r['portal_cpu'])}; best ratio "
            f"{min(r['portal_cpu']) / min(r['floor_cpu']):.2f}"
        )
        print(
            f"  every run, DNS server CPU s floor/portal: "
            f"{_pairs(r['floor_server_cpu'], r['portal_server_cpu'])}; "
            f"PostgreSQL backend CPU s (portal): {', '.join(f'{c:.2f}' for c in r['db_cpu'])}"
        )
    if len(rows) > 1:
        print(
            f"peak RSS N={rows[-1]['domains']} / N={rows[0]['domains']}: "
            f"{rows[-1]['peak_mb'] / rows[0]['peak_mb']:.2f} (goal <= 1.15)"
        )


def _pairs(floors: list[float], portals: list[float]) -> str:
    return ", ".join(f"{f:.2f}/{p:.2f}" for f, p in zip(floors, portals, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--pool", type=int, default=100, help="DNS_CHECK_CONCURRENCY")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument(
        "--child", choices=["fresh", "setup", "portal", "floor"], help=argparse.SUPPRESS
    )
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "fresh":
        fresh_database(BENCH_DATABASE)
    elif args.child == "setup":
        print(json.dumps({"target": setup(args.domains[0])}))
    elif args.child == "portal":
        print(json.dumps(portal_run(args.pool)))
    elif args.child == "floor":
        print(json.dumps(floor_run(args.domains[0], args.pool, args.port)))
    else:
        # one fresh database per run (a child: the parent never loads Django)
        subprocess.run(
            [sys.executable, __file__, "--child", "fresh"],
            env={**os.environ, **django_environment(pool=args.pool)},
            check=True,
        )
        rows = [measure(n, args.delay_ms, args.pool, args.repeat) for n in args.domains]
        report(rows, args.delay_ms, args.pool, args.repeat)


if __name__ == "__main__":
    main()
