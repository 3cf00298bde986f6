"""DNS verification throughput against the resolver floor.

Verifies N own domains (three SRV records and one TXT each) through the portal's real code path
(the sweeper's claim with SELECT ... FOR UPDATE SKIP LOCKED, the lookups in the bounded pool,
the verdicts, the batched writes) on PostgreSQL (database portal_bench_dns), against a local DNS
server that delays every answer by D ms. In the same run it resolves the same queries with bare
dnspython at the same concurrency against the same server: the resolver floor. Each run is a
subprocess of a parent that never loads Django, so each peak RSS (resource.getrusage, which on
Linux also counts the image the child was forked from) is that run's alone. Floor and portal
runs alternate, R times each; the best of each is reported (this machine is shared).

    python bench/dns_verify.py [--domains 1000 10000] [--delay-ms 50] [--pool 100] [--repeat 3]

The DNS server is cheap per answer on purpose (answers precomputed as wire bytes, asyncio, its
own process): on a small machine a costly server, not the client, would set the pace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database  # noqa: E402 (needs ROOT on the path)

BENCH_DATABASE = "portal_bench_dns"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
SRV_RECORDS = (("_sips._tcp", 5061), ("_sip._tcp", 5060), ("_h323cs._tcp", 1720))
EDNS_PAYLOAD = 1232  # as onboarding/dns.py asks, so both sides send identical queries


def domain_name(number: int) -> str:
    return f"d{number}.bench.test"


def ownership_code(number: int) -> str:
    return f"{number:032x}"


def questions(number: int) -> list[tuple[str, str]]:
    domain = domain_name(number)
    srv = [(f"{label}.{domain}.", "SRV") for label, _port in SRV_RECORDS]
    return [*srv, (f"_pexip-verification.{domain}.", "TXT")]


# The DNS server (a child process) ---------------------------------------------------------------


def serve(domains: int, delay: float, target: str) -> None:
    """Answer every expected question from precomputed wire bytes after `delay` seconds."""
    import dns.flags
    import dns.message
    import dns.rrset

    answers: dict[bytes, bytes] = {}
    for number in range(domains):
        for (name, rdtype), data in zip(
            questions(number), _record_data(number, target), strict=True
        ):
            query = dns.message.make_query(name, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            response.answer.append(dns.rrset.from_text(name, 60, "IN", rdtype, data))
            wire = query.to_wire()
            answers[wire[12 : 12 + _question_length(wire)]] = response.to_wire()[2:]

    class Answerer(asyncio.DatagramProtocol):
        answered = 0

        def connection_made(self, transport: asyncio.DatagramTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            template = answers.get(data[12 : 12 + _question_length(data)])
            if template is not None:
                Answerer.answered += 1
                loop.call_later(delay, self.transport.sendto, data[:2] + template, addr)

    loop = asyncio.new_event_loop()
    transport, _protocol = loop.run_until_complete(
        loop.create_datagram_endpoint(Answerer, local_addr=("127.0.0.1", 0))
    )
    port = transport.get_extra_info("sockname")[1]
    print(f"ready {port}", flush=True)

    def commands() -> None:  # "count" prints the answers so far; end of input stops the server
        for line in sys.stdin:
            if line.strip() == "count":
                print(Answerer.answered, flush=True)
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=commands, daemon=True).start()
    loop.run_forever()


def _record_data(number: int, target: str) -> list[str]:
    srv = [f"10 10 {port} {target}." for _label, port in SRV_RECORDS]
    return [*srv, f'"pexip-verification={ownership_code(number)}"']


def _question_length(wire: bytes) -> int:
    """Bytes of the question (name, type, class) that starts at offset 12."""
    offset = 12
    while wire[offset]:
        offset += wire[offset] + 1
    return offset + 1 + 4 - 12


class DnsServerProcess:
    def __init__(self, domains: int, delay_ms: float, target: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                "server",
                "--domains",
                str(domains),
                "--delay-ms",
                str(delay_ms),
                "--target",
                target,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self.process.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise RuntimeError("the benchmark DNS server did not start")
        self.port = int(ready[1])

    def answered(self) -> int:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


# The two clients (child processes) ---------------------------------------------------------------


def portal_run(pool: int) -> dict[str, float]:
    """The sweeper, exactly as the Celery task calls it, until nothing is due."""
    import django

    django.setup()
    from onboarding import dns_checks
    from onboarding.models import CallingDomain

    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started = time.perf_counter(), cpu_seconds()
    checked = verified = 0
    while True:
        result = dns_checks.dns_sweep(concurrency=pool)
        checked += result.checked
        verified += result.verified
        if not result.checked:
            break
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    assert CallingDomain.objects.filter(verified_at__isnull=False).count() == verified
    return {
        "seconds": seconds,
        "cpu": cpu,
        "checked": checked,
        "verified": verified,
        "baseline_kb": baseline_kb,
        "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def floor_run(domains: int, pool: int, port: int) -> dict[str, float]:
    """Bare dnspython: the same queries, a domain's four one after another per pool task."""
    import dns.message
    import dns.query

    def resolve(number: int) -> int:
        for name, rdtype in questions(number):
            query = dns.message.make_query(name, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
            dns.query.udp(query, "127.0.0.1", port=port, timeout=10)
        return 4

    started, cpu_started = time.perf_counter(), cpu_seconds()
    with ThreadPoolExecutor(max_workers=pool) as executor:
        answered = sum(executor.map(resolve, range(domains)))
    return {
        "seconds": time.perf_counter() - started,
        "cpu": cpu_seconds() - cpu_started,
        "answered": answered,
        "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
            floors.append(child("floor", env, *floor_args, "--port", str(server.port)))
            before = server.answered()
            portals.append(child("portal", env, "--pool", str(pool)))
            portals[-1]["queries"] = server.answered() - before
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
        "floor_cpu": min(run["cpu"] for run in floors),
        "portal_cpu": min(run["cpu"] for run in portals),
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
        runs = ", ".join(f"{f:.2f}/{p:.2f}" for f, p in zip(r["floors"], r["portals"], strict=True))
        print(
            f"portal / floor at N={r['domains']}: {r['portal'] / r['floor']:.2f} (goal <= 1.20); "
            f"every run, floor/portal s: {runs}; client CPU s floor/portal: "
            f"{r['floor_cpu']:.2f}/{r['portal_cpu']:.2f}"
        )
    if len(rows) > 1:
        print(
            f"peak RSS N={rows[-1]['domains']} / N={rows[0]['domains']}: "
            f"{rows[-1]['peak_mb'] / rows[0]['peak_mb']:.2f} (goal <= 1.15)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--pool", type=int, default=100, help="DNS_CHECK_CONCURRENCY")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument(
        "--child", choices=["fresh", "setup", "server", "portal", "floor"], help=argparse.SUPPRESS
    )
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "fresh":
        fresh_database(BENCH_DATABASE)
    elif args.child == "setup":
        print(json.dumps({"target": setup(args.domains[0])}))
    elif args.child == "server":
        serve(args.domains[0], args.delay_ms / 1000, args.target)
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
