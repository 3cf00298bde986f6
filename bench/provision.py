"""A gateway with thousands of tenants on Pexip Infinity: the drift sweep and the provisioning
job against the Management Node double (tests/infinity_double.py) over real HTTPS on loopback.

The double runs in this process, in a thread, as the tests run it: its work (TLS, JSON, filtering
its lists) shares this process's interpreter and cores with the portal's, so wall times hold
both sides (a real node would do its part elsewhere). N active tenants on the default gateway,
switched to Infinity as staff would (`services.changes.gateway_change`); each has an onpexip.com
domain, every fifth also a verified own domain, and an encrypted current token (bulk setup, not
timed), in a fresh database of its own. Then:
1. every tenant's job in sequence, as one worker would, from an empty node;
2. the drift sweep with nothing to repair, at the client's page size and at a smaller page cap
   on the node, with the node requests it made and its SQL queries;
3. the sweep's peak memory (tracemalloc);
4. the sweep after K objects were edited or deleted by hand on the node;
5. one job on tenants already in sync ("Provision now"), by tenant id.

    python bench/provision.py [--tenants 2000] [--drift 20] [--repeat 3] [--node-latency 0]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database  # noqa: E402 (needs ROOT on the path)

BENCH_DATABASE = "portal_bench_provision"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
# The confirmation emails the jobs queue go to an in-process broker: the shared Redis stays out.
os.environ["CACHE_URL"] = "locmemcache://"
os.environ["CELERY_BROKER_URL"] = "memory://"
PREFIX = "meet-portal-"
NODE_PAGE_CAP = 20  # a node that answers smaller pages than the client asks for


def create_tenants(count: int) -> list[int]:
    """N active tenants whose tokens the gateway does not have yet (each upload asked for its
    job: the provisioning row is due). Returns their ids, ascending."""
    from django.utils import timezone

    from onboarding.infra import encryption
    from onboarding.models import (
        CallingDomain,
        Gateway,
        SecurityToken,
        Tenant,
        TenantProvisioning,
        TenantStatus,
    )

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
    domains = [
        CallingDomain(
            tenant=tenant,
            option="onpexip",
            domain=f"t{n}",
            meeting_id_length="short" if n % 4 == 0 else "long",
            prefix=str(n % 10) if n % 4 == 0 else "",
            created_at=now,
        )
        for n, tenant in enumerate(tenants)
    ]
    domains += [
        CallingDomain(
            tenant=tenant,
            option="own",
            domain=f"meet.t{n}.bench.test",
            verified_at=now,
            created_at=now,
        )
        for n, tenant in enumerate(tenants)
        if n % 5 == 0
    ]
    CallingDomain.objects.bulk_create(domains)
    SecurityToken.objects.bulk_create(
        SecurityToken(
            tenant=tenant,
            ciphertext=encryption.encrypt(f"bench-token-{n:06d}-abcdefghijklmnopqrstuvwxyz"),
            fingerprint=encryption.fingerprint(f"bench-token-{n:06d}"),
            uploaded_at=now,
        )
        for n, tenant in enumerate(tenants)
    )
    TenantProvisioning.objects.bulk_create(
        TenantProvisioning(tenant=tenant, requested_at=now, next_attempt_at=now)
        for tenant in tenants
    )
    return [tenant.pk for tenant in tenants]


def count_connections(node) -> list[int]:
    """Count the connections the double accepts: each is a TCP and TLS handshake."""
    server = node._server  # the double's ThreadingHTTPServer; only wrapped, not changed
    accepted = [0]
    accept = server.process_request

    def process_request(request, client_address) -> None:
        accepted[0] += 1
        accept(request, client_address)

    server.process_request = process_request
    return accepted


def per_tenant_reads(records) -> Counter[str]:
    """GETs filtered to one tenant's objects (a job's read), by the prefix they asked for."""
    reads: Counter[str] = Counter()
    for record in records:
        for key, value in parse_qsl(record.query):
            if key in ("name__startswith", "tag__startswith") and value != PREFIX:
                reads[f"{key}={value}"] += 1
    return reads


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


def provision_all(node, tenant_ids: list[int], connections: list[int]) -> None:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from onboarding.gateways import provisioning
    from onboarding.models import ProvisioningState

    durations, requests, queries, sql_seconds = [], [], [], []
    log_before, connections_before = len(node.log), connections[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    for tenant_id in tenant_ids:
        before = len(node.log)
        reset_queries()  # the query log keeps 9,000 queries; a capture past that sees none
        with CaptureQueriesContext(connection) as captured:
            job_started = time.perf_counter()
            outcome = provisioning.tenant_provision(tenant_id)
            durations.append(time.perf_counter() - job_started)
        assert outcome is not None and outcome.state == ProvisioningState.IN_SYNC, outcome
        requests.append(len(node.log) - before)
        queries.append(len(captured))
        sql_seconds.append(sum(float(q["time"]) for q in captured.captured_queries))
    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    methods = Counter(r.method for r in node.log[log_before:])
    count = len(tenant_ids)
    print(f"1. provisioning {count} tenants from an empty node, one job after the other:")
    print(f"   total {total:.1f} s, {count / total:.0f} tenants/s")
    print(
        f"   per tenant: p50 {ms(percentile(durations, 50))}, p99 {ms(percentile(durations, 99))},"
        f" max {ms(max(durations))}"
    )
    print(
        f"   node requests per tenant: {sum(requests) / count:.2f} "
        f"({', '.join(f'{m} {n / count:.2f}' for m, n in sorted(methods.items()))}), "
        f"max {max(requests)}; connections opened per tenant "
        f"{(connections[0] - connections_before) / count:.2f}"
    )
    print(
        f"   SQL queries per tenant: p50 {statistics.median(queries):.0f}, max {max(queries)}; "
        f"their time p50 {ms(statistics.median(sql_seconds))}"
    )
    print(f"   CPU of this process (portal and double) per tenant: {ms(cpu / count)}")


def sweep_once(node):
    """One periodic sweep: (result, seconds, node requests, SQL queries captured)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from onboarding.gateways import provisioning_sweep

    before = len(node.log)
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = provisioning_sweep.gateways_sweep()
        seconds = time.perf_counter() - started
    return result, seconds, node.log[before:], captured


def tables_read(captured) -> list[str]:
    return [q["sql"].split(' FROM "', 1)[1].split('"', 1)[0] for q in captured.captured_queries]


def expected_pages(node, page: int) -> tuple[int, int, int]:
    tokens, rules = len(node.objects("gms_access_token")), len(node.objects("gateway_routing_rule"))
    return tokens, rules, math.ceil(tokens / page) + math.ceil(rules / page)


def sweep_in_sync(node, tenants: int, repeat: int) -> None:
    from onboarding.gateways.infinity_client import DEFAULT_PAGE_SIZE

    print(f"2. drift sweep of the gateway, {tenants} tenants in sync, nothing to repair:")
    for label, cap in (
        (f"client's page size {DEFAULT_PAGE_SIZE}, node cap {node.max_limit}", node.max_limit),
        (f"node cap {NODE_PAGE_CAP}, client asks {DEFAULT_PAGE_SIZE}", NODE_PAGE_CAP),
    ):
        saved, node.max_limit = node.max_limit, cap
        page = min(cap, DEFAULT_PAGE_SIZE)
        runs = [sweep_once(node) for _ in range(repeat)]
        node.max_limit = saved
        result, _, records, captured = runs[-1]
        assert result.tenants_checked == tenants and result.repaired == 0, result
        seconds = statistics.median(run[1] for run in runs)
        tokens, rules, pages = expected_pages(node, page)
        gets = [r for r in records if r.method == "GET"]
        assert len(gets) == len(records), "a sweep with nothing to repair wrote to the node"
        print(f"   pages of {page} ({label}):")
        print(
            f"     wall {ms(seconds)} (median of {repeat}), {seconds / tenants * 1e6:.0f} µs "
            f"per tenant"
        )
        print(
            f"     node requests: {len(gets)} GETs for {tokens} tokens and {rules} rules "
            f"(ceil(tokens/{page}) + ceil(rules/{page}) = {pages}); "
            f"per-tenant reads {sum(per_tenant_reads(records).values())}"
        )
        print(f"     SQL queries: {len(captured)} ({', '.join(tables_read(captured))})")


def sweep_memory(node, tenants: int) -> None:
    """Peak of what the sweep allocates, against the same list reads alone (the double's
    answers, the client's pages): the difference is the portal's side of the sweep."""
    from onboarding.gateways import nodes
    from onboarding.models import Gateway

    gateway = Gateway.objects.get(is_default=True)
    tracemalloc.start()
    with nodes.client_for(gateway) as client:
        client.list_tokens(name_prefix=PREFIX), client.list_rules(tag_prefix=PREFIX)
    lists_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    result, _, _, _ = sweep_once(node)
    sweep_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.repaired == 0, result
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"3. peak memory of the sweep at {tenants} tenants (tracemalloc, Python allocations):")
    print(
        f"   the sweep {sweep_peak / 1e6:.1f} MB ({sweep_peak / tenants / 1024:.1f} KiB per "
        f"tenant); the two list reads alone {lists_peak / 1e6:.1f} MB"
    )
    print(f"   process max RSS so far {rss:.0f} MB (Django, the double and its objects included)")


def edit_by_hand(node, tenant_ids: list[int]) -> Counter[str]:
    """Drift on `tenant_ids`, in turn: a rule edited, a rule deleted, a token deleted (its
    rules then reference nothing)."""
    rules = {r["tag"].split("-")[2]: r for r in node.objects("gateway_routing_rule")}
    tokens = {t["name"]: t for t in node.objects("gms_access_token")}
    done: Counter[str] = Counter()
    for n, tenant_id in enumerate(tenant_ids):
        if n % 3 == 0:
            node.edit_by_hand("gateway_routing_rule", rules[str(tenant_id)]["id"], priority=1)
            done["rule edited"] += 1
        elif n % 3 == 1:
            node.delete_by_hand("gateway_routing_rule", rules[str(tenant_id)]["id"])
            done["rule deleted"] += 1
        else:
            token = tokens[f"{PREFIX}{tenant_id}"]
            node.delete_by_hand("gms_access_token", token["id"], force=True)
            done["token deleted"] += 1
    return done


def sweep_after_drift(node, tenant_ids: list[int], drifted: int) -> None:
    step = max(1, len(tenant_ids) // drifted)
    chosen = tenant_ids[::step][:drifted]
    edits = edit_by_hand(node, chosen)
    result, seconds, records, captured = sweep_once(node)
    methods = Counter(r.method for r in records)
    reads = per_tenant_reads(records)
    list_pages = sum(1 for r in records if r.method == "GET") - sum(reads.values())
    jobs = len(records) - list_pages
    repaired = max(1, result.repaired)
    worst, worst_pages = reads.most_common(1)[0] if reads else ("-", 0)
    print(
        f"4. the sweep after {len(chosen)} objects changed by hand "
        f"({', '.join(f'{n} {what}' for what, n in edits.items())}), on tenants {chosen[0]} to "
        f"{chosen[-1]}, one in {step}:"
    )
    print(f"   wall {ms(seconds)}, repaired {result.repaired} tenants")
    print(
        f"   node requests: {len(records)} "
        f"({', '.join(f'{m} {n}' for m, n in sorted(methods.items()))}): {list_pages} list "
        f"pages, then {jobs} by the repairs ({jobs / repaired:.1f} each)"
    )
    print(
        f"   the repairs' reads of one tenant's objects: {sum(reads.values())} GETs; the most "
        f"for one filter: {worst_pages} pages of {worst}"
    )
    print(f"   SQL queries: {len(captured)} ({len(captured) / repaired:.0f} per repair)")
    again, _, records, _ = sweep_once(node)
    print(f"   a second sweep: repaired {again.repaired}, {len(records)} node requests")


def provision_now(node, tenant_ids: list[int]) -> None:
    """A job on a tenant already in sync reads its objects, then reads them back: each token
    read asks the node for every token whose name starts with the tenant's token name."""
    from onboarding.gateways import provisioning

    picks = sorted(
        {tenant_ids[i] for i in (0, 9, 99, 999, len(tenant_ids) - 1) if i < len(tenant_ids)}
    )
    names = [t["name"] for t in node.objects("gms_access_token")]
    print('5. one job on a tenant in sync ("Provision now"), changing nothing:')
    for tenant_id in picks:
        before = len(node.log)
        started = time.perf_counter()
        provisioning.tenant_provision(tenant_id)
        seconds = time.perf_counter() - started
        records = node.log[before:]
        assert all(r.method == "GET" for r in records)
        matching = sum(1 for name in names if name.startswith(f"{PREFIX}{tenant_id}"))
        print(
            f"   tenant {tenant_id}: {len(records)} GETs, {ms(seconds)}; its token reads match "
            f"{matching} tokens (name__startswith={PREFIX}{tenant_id})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=2000)
    parser.add_argument("--drift", type=int, default=20, help="objects changed by hand")
    parser.add_argument("--repeat", type=int, default=3, help="sweeps timed (the median counts)")
    parser.add_argument(
        "--node-latency", type=float, default=0, help="ms the double waits before each answer"
    )
    args = parser.parse_args()

    fresh_database(BENCH_DATABASE)
    from tests.infinity_double import InfinityDouble
    from tests.provisioning_support import make_infinity

    node = InfinityDouble().start()
    connections = count_connections(node)
    try:
        make_infinity(node)  # before the tenants exist: their jobs are run below, not queued
        tenant_ids = create_tenants(args.tenants)
        node.slow(args.node_latency / 1000)
        print(
            f"a gateway with {args.tenants} tenants, the Management Node double in this process "
            f"(https://127.0.0.1:{node.port}, cap {node.max_limit} objects a page, "
            f"{args.node_latency:g} ms added to each answer)"
        )
        provision_all(node, tenant_ids, connections)
        sweep_in_sync(node, args.tenants, args.repeat)
        sweep_memory(node, args.tenants)
        sweep_after_drift(node, tenant_ids, args.drift)
        provision_now(node, tenant_ids)
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    finally:
        node.stop()


if __name__ == "__main__":
    main()
