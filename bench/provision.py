"""Provisioning tenants on Pexip Infinity through a real Celery worker, against a bare HTTP
client as the floor; the drift sweep of a gateway with many unchanged tenants; its peak memory.

The Management Node double of the tests (tests/infinity_double.py, real HTTPS on loopback, its
own CA) runs in a process of its own, so its CPU is counted apart from the portal's, with
`--node-latency` ms added to every answer. Setup (tenants, domains, tokens, made in bulk) is not
timed; everything runs in a fresh database of its own and a private redis-server as the broker.

1. Provisioning: `--tenants` active tenants, each with a current token and an onpexip.com
   domain, every fifth also a verified own domain, on an Infinity gateway. Their jobs are queued
   as production queues them (`provisioning_request`, sent when the transaction commits) and a
   `celery -A portal worker` (prefork, `--concurrency` processes) runs them; the clock stops
   when every current token has `gateway_has_token_at` (the job read both objects back).
   Throughput, node requests per tenant, and CPU per tenant: the worker (main and pool
   processes), the PostgreSQL sessions it opened, the double.
2. The floor: `requests.Session`s (one per thread, TLS verified against the same CA), as many
   threads as worker processes, replaying each tenant's requests exactly as the double saw the
   job make them (method, path, query; the same bodies, the token's value included), against a
   second, empty double with the same latency. Goal: the worker at least 0.8 of its throughput.
3. The drift sweep (`gateway_sweep`) of the gateway with `--sweep-tenants` unchanged tenants:
   the worker's tenants, and the rest made in bulk, in sync, with the objects the portal would
   have created put straight into the double's store (the sweep repairing none of them shows
   they are what the portal wants). Goal: at most ceil(tokens / page) + ceil(rules / page) + 10
   node requests, at the client's page size.
4. Peak memory of one sweep at `--tenants` and at `--sweep-tenants` tenants, each in a fresh
   process that sets up Django and runs one sweep: the process's peak RSS (VmHWM; the goal, at
   most +15%, is judged on it: it is what a worker costs), and in another fresh process the
   peak of Python's allocations during the sweep (tracemalloc).

    python bench/provision.py [--tenants 1000] [--concurrency 4] [--node-latency 20]
                              [--sweep-tenants 10000]
    python bench/provision.py --profile 200    # where one job's time goes (pyinstrument)
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database  # noqa: E402 (needs ROOT on the path)

# BENCH_DATABASE names another database, so two runs on one machine do not drop each other's.
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "portal_bench_provision")
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["CACHE_URL"] = "locmemcache://"
# main() points the broker at its private redis-server; the sweep's processes queue nothing.
os.environ["CELERY_BROKER_URL"] = "memory://"
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# A request that names one tenant: its token (name), its rules (tag prefix), or a body for it.
ONE_TENANT = re.compile(r"(?:^|&)(?:name|name__startswith|tag|tag__startswith)=meet-portal-(\d+)")
OBJECT_NAME = re.compile(r"^meet-portal-(\d+)(?:-\d+)?$")
MEMORY_GOAL = 0.15
FLOOR_GOAL = 0.8
EXTRA_SWEEP_REQUESTS = 10


# The Management Node double, in a process of its own ----------------------------------------------


def node_process(conn) -> None:
    """Serve doubles by name and answer commands from the benchmark over `conn`."""
    from tests.infinity_double import InfinityDouble

    doubles: dict[str, InfinityDouble] = {}
    traces: dict[str, list[tuple]] = {}
    connections: dict[str, list[int]] = {}
    while True:
        command, name, args = conn.recv()
        if command == "stop":
            for double in doubles.values():
                double.stop()
            conn.send(None)
            return
        if command == "start":
            double = doubles[name] = InfinityDouble().start()
            traces[name], connections[name] = _traced(double)
            answer = {
                "port": double.port,
                "username": double.username,
                "password": double.password,
                "ca_bundle": str(double.ca_bundle),
                "max_limit": double.max_limit,
            }
        elif command == "slow":
            doubles[name].slow(args)
            answer = None
        elif command == "trace":  # every request since `args`, with the tenant it was for
            answer = traces[name][args:]
        elif command == "trace_length":
            answer = len(traces[name])
        elif command == "connections":
            answer = connections[name][0]
        elif command == "counts":
            store = doubles[name].store
            answer = {resource: len(objects) for resource, objects in store.objects.items()}
        elif command == "prefill":
            answer = _prefill(doubles[name], args)
        else:
            answer = ValueError(f"unknown command {command}")
        conn.send(answer)


def _tenant_of(query: str, body) -> int | None:
    if isinstance(body, dict):
        match = OBJECT_NAME.match(str(body.get("tag") or body.get("name") or ""))
        return int(match.group(1)) if match else None
    match = ONE_TENANT.search(query)
    return int(match.group(1)) if match else None


def _traced(double) -> tuple[list[tuple], list[int]]:
    """Record each request the double routes with the tenant it was for (from its query or
    body) and the body of a rule; of a token's body only its name (never the value). Count the
    connections it accepts (each a TCP and TLS handshake). Both only wrap the double's methods."""
    trace: list[tuple] = []
    lock = threading.Lock()
    route = double._route

    def traced_route(method, path, query, body):
        answer = route(method, path, query, body)
        kept = None
        if isinstance(body, dict):
            kept = {"name": body.get("name")} if "token" in body else dict(body)
        with lock:
            trace.append((_tenant_of(query, body), method, path, query, kept, answer.status))
        return answer

    double._route = traced_route
    accepted = [0]
    server = double._server
    accept = server.process_request

    def process_request(request, client_address) -> None:
        accepted[0] += 1
        accept(request, client_address)

    server.process_request = process_request
    return trace, accepted


def _prefill(double, tenants: list[tuple[str, str, list[dict]]]) -> int:
    """Store each tenant's token and rules as a POST would (the resource's defaults for the
    fields not sent), without the per-object uniqueness scan a POST makes, which is O(objects):
    one in 250 is checked against the double's own validation instead."""
    import datetime as dt

    from tests.infinity_resources import FIELDS, GATEWAY_ROUTING_RULE, GMS_ACCESS_TOKEN, uri

    store = double.store

    def put(resource: str, body: dict, check: bool) -> dict:
        values = {name: body.get(name, field.default) for name, field in FIELDS[resource].items()}
        if check:
            assert store.validate(resource, body, current=None) == values, body
        object_id = store.next_id[resource]
        store.next_id[resource] += 1
        obj = {"id": object_id, **values, "resource_uri": uri(resource, object_id)}
        if resource == GATEWAY_ROUTING_RULE:
            obj["creation_time"] = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat()
        store.objects[resource][object_id] = obj
        return obj

    with store.lock:
        for n, (name, value, rules) in enumerate(tenants):
            token = put(GMS_ACCESS_TOKEN, {"name": name, "token": value}, n % 250 == 0)
            for fields in rules:
                body = {**fields, "gms_access_token": token["resource_uri"]}
                put(GATEWAY_ROUTING_RULE, body, n % 250 == 0)
    return len(tenants)


class Node:
    """The benchmark's handle on one double in the node process."""

    def __init__(self, conn, lock: threading.Lock, name: str, pid: int) -> None:
        self.conn, self.lock, self.name, self.pid = conn, lock, name, pid
        self.info = self.call("start")
        self.port = self.info["port"]
        self.username, self.password = self.info["username"], self.info["password"]
        self.ca_bundle = Path(self.info["ca_bundle"])
        self.max_limit = self.info["max_limit"]

    def call(self, command: str, args=None):
        with self.lock:
            self.conn.send((command, self.name, args))
            answer = self.conn.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def slow(self, seconds: float) -> None:
        self.call("slow", seconds)

    def trace(self, since: int = 0) -> list[tuple]:
        return self.call("trace", since)

    def trace_length(self) -> int:
        return self.call("trace_length")


# Processes and their CPU --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds the process has used so far (0 once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text.rpartition(")")[2].split()  # after comm: state(0) ppid(1) ... utime(11)
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            if int(text.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def worker_cpu(pid: int) -> float:
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in children_of(pid))


def postgresql_cpu() -> float:
    """CPU seconds used so far by every PostgreSQL process on this machine, with the sessions
    that ended (the server's reaped children): Celery closes the database connection after
    each task, so the worker's sessions come and go. Other clients' sessions count too."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        head, _, rest = text.rpartition(")")
        if head.partition(" (")[2] != "postgres":
            continue
        fields = rest.split()
        total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / TICKS_PER_SECOND


class Worker:
    """`celery -A portal worker`, prefork, as production runs it, on the benchmark's database
    and its private broker."""

    def __init__(self, *, broker_url: str, concurrency: int) -> None:
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept for the worker's life)
            prefix="bench-provision-worker-", suffix=".log", delete=False
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": DATABASE_URL,
            "CELERY_BROKER_URL": broker_url,
            "CACHE_URL": "locmemcache://",
            # the confirmation emails the jobs queue are sent to memory, not to a server
            "EMAIL_URL": "memorymail://",
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-provision-{os.getpid()}@%h",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while b" ready." not in Path(self.log.name).read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.output()[-3000:]}")
            time.sleep(0.1)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        os.unlink(self.log.name)


# Tenants ------------------------------------------------------------------------------------------


def token_value(n: int) -> str:
    return f"bench-token-{n:06d}-abcdefghijklmnopqrstuvwxyz"


def create_tenants(first: int, count: int, *, in_sync_on=None) -> dict[int, str]:
    """`count` active tenants on the default gateway, numbered from `first`: an onpexip.com
    domain each (one in four with short meeting IDs and a prefix), every fifth also a verified
    own domain, and a current token. `in_sync_on`: they are already provisioned on that gateway
    (the token marked, the provisioning row in sync). Returns {tenant id: token value}."""
    from django.utils import timezone

    from onboarding.infra import encryption
    from onboarding.models import CallingDomain, Gateway, SecurityToken, Tenant, TenantStatus

    gateway = Gateway.objects.get(is_default=True)
    now = timezone.now()
    numbers = range(first, first + count)
    tenants = Tenant.objects.bulk_create(
        Tenant(
            name=f"Bench {n}",
            main_contact_email=f"it@t{n}.bench.test",
            gateway=gateway,
            status=TenantStatus.ACTIVE,
            created_at=now,
            status_changed_at=now,
        )
        for n in numbers
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
        for n, tenant in zip(numbers, tenants, strict=True)
    ]
    domains += [
        CallingDomain(
            tenant=tenant,
            option="own",
            domain=f"meet.t{n}.bench.test",
            verified_at=now,
            created_at=now,
        )
        for n, tenant in zip(numbers, tenants, strict=True)
        if n % 5 == 0
    ]
    CallingDomain.objects.bulk_create(domains)
    SecurityToken.objects.bulk_create(
        SecurityToken(
            tenant=tenant,
            ciphertext=encryption.encrypt(token_value(n)),
            fingerprint=encryption.fingerprint(token_value(n)),
            uploaded_at=now,
            gateway_has_token_at=now if in_sync_on is not None else None,
        )
        for n, tenant in zip(numbers, tenants, strict=True)
    )
    return {tenant.pk: token_value(n) for n, tenant in zip(numbers, tenants, strict=True)}


def mark_in_sync(gateway, tenant_ids: list[int], values: dict[int, str]) -> list[tuple]:
    """Provisioning rows in sync on `gateway` for these tenants, and what the node holds for
    each as the portal's job would have made it: [(token name, value, [rule fields])]."""
    from django.db.models import Prefetch
    from django.utils import timezone

    from onboarding.models import (
        CallingDomain,
        ProvisioningState,
        SecurityToken,
        Tenant,
        TenantProvisioning,
        TokenState,
    )
    from onboarding.services import provisioning as desired_states

    now = timezone.now()
    tenants = (
        Tenant.objects.filter(pk__in=tenant_ids)
        .select_related("gateway")
        .prefetch_related(
            Prefetch(
                "calling_domains",
                queryset=CallingDomain.objects.customer_facing().order_by("pk"),
                to_attr="facing_domains",
            ),
            Prefetch(
                "tokens",
                queryset=SecurityToken.objects.filter(state=TokenState.CURRENT),
                to_attr="current_tokens",
            ),
        )
        .order_by("pk")
    )
    rows, objects = [], []
    for tenant in tenants:
        token = tenant.current_tokens[0]
        desired = desired_states.desired_state_for(tenant, token, tenant.facing_domains)
        rows.append(
            TenantProvisioning(
                tenant=tenant,
                state=ProvisioningState.IN_SYNC,
                requested_at=now,
                synced_at=now,
                desired_digest=desired_states.desired_digest(desired, token),
                node_gateway=gateway,
                node_token=token,
            )
        )
        rules = [rule.fields() for rule in desired.rules]
        objects.append((desired.token.name, values[tenant.pk], rules))
    TenantProvisioning.objects.bulk_create(rows, batch_size=2000)
    return objects


# 1. Provisioning through the worker ---------------------------------------------------------------


def provision_through_worker(node: Node, worker: Worker, values: dict[int, str]) -> dict:
    from django.db import transaction

    from onboarding.models import ProvisioningState, SecurityToken, TenantProvisioning, TokenState
    from onboarding.services.provisioning_requests import provisioning_request

    ids = sorted(values)
    trace_start, connections_start = node.trace_length(), node.call("connections")
    worker_start, node_start = worker_cpu(worker.process.pid), cpu_seconds(node.pid)
    database_start = postgresql_cpu()
    with transaction.atomic():
        for tenant_id in ids:
            provisioning_request(tenant_id)
        started = time.perf_counter()  # the jobs are sent as this transaction commits
    waiting = SecurityToken.objects.filter(
        tenant_id__in=ids, state=TokenState.CURRENT, gateway_has_token_at__isnull=True
    )
    while waiting.exists():
        if time.perf_counter() - started > 900:
            raise RuntimeError(f"gave up waiting: {waiting.count()} tokens not marked")
        failed = TenantProvisioning.objects.filter(state=ProvisioningState.FAILED).first()
        if failed is not None:
            raise RuntimeError(f"tenant {failed.tenant_id} failed: {failed.detail}")
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    worker_used = worker_cpu(worker.process.pid) - worker_start
    node_used = cpu_seconds(node.pid) - node_start
    database_used = postgresql_cpu() - database_start
    trace = node.trace(trace_start)
    return {
        "seconds": seconds,
        "worker_cpu": worker_used,
        "node_cpu": node_used,
        "database_cpu": database_used,
        "connections": node.call("connections") - connections_start,
        "trace": trace,
    }


def kind(step: tuple) -> str:
    """`GET gms_access_token?name__startswith`: the request without its values."""
    _tenant, method, path, query, _body, _status = step
    resource_name = path.rstrip("/").split("/")[-1]
    if resource_name.isdigit():
        resource_name = path.rstrip("/").split("/")[-2] + "/<id>"
    keys = [key for key, _ in parse_qsl(query) if key not in ("limit",)]
    return f"{method} {resource_name}" + (f"?{'&'.join(keys)}" if keys else "")


def per_tenant_plans(trace: list[tuple]) -> dict[int, list[tuple]]:
    plans: dict[int, list[tuple]] = defaultdict(list)
    for step in trace:
        if step[0] is not None:
            plans[step[0]].append(step)
    return dict(plans)


def report_provisioning(run: dict, count: int, concurrency: int) -> dict[int, list[tuple]]:
    trace = run["trace"]
    plans = per_tenant_plans(trace)
    unattributed = [step for step in trace if step[0] is None]
    refused = Counter(step[5] for step in trace if step[5] >= 300)
    methods = Counter(step[1] for step in trace)
    patterns = Counter(" → ".join(kind(step) for step in plan) for plan in plans.values())
    seconds = run["seconds"]
    print(
        f"1. provisioning {count} tenants through `celery worker` (prefork, concurrency "
        f"{concurrency}), from queueing to the last token marked:"
    )
    print(f"   wall {seconds:.1f} s, {count / seconds:.1f} tenants/s")
    print(
        f"   node requests per tenant: {len(trace) / count:.2f} "
        f"({', '.join(f'{m} {n / count:.2f}' for m, n in sorted(methods.items()))}); "
        f"not attributable to one tenant: {len(unattributed)}; answered >= 300: "
        f"{sum(refused.values())}; connections opened {run['connections']}"
    )
    for pattern, tenants in patterns.most_common(3):
        print(f"   {tenants} tenants: {pattern}")
    print(
        f"   CPU per tenant: worker (main + pool processes) {run['worker_cpu'] / count * 1e3:.1f} "
        f"ms, the node double {run['node_cpu'] / count * 1e3:.1f} ms; PostgreSQL (all of it, "
        f"others' sessions included) {run['database_cpu'] / count * 1e3:.1f} ms"
    )
    return plans


def profile_jobs(count: int) -> None:
    """`count` tenants' jobs in this process, one after the other, each followed by what the
    Celery worker does after every task (portal/celery.py): where a job's time goes."""
    from django.db import close_old_connections, connection
    from pyinstrument import Profiler

    from onboarding.gateways import provisioning

    values = create_tenants(0, count)
    sql = [0, 0.0]

    def timed(execute, query, params, many, context):
        started = time.perf_counter()
        try:
            return execute(query, params, many, context)
        finally:
            sql[0] += 1
            sql[1] += time.perf_counter() - started

    profiler = Profiler(interval=0.0005)
    cpu_started, started = time.process_time(), time.perf_counter()
    profiler.start()
    for tenant_id in sorted(values):
        with connection.execute_wrapper(timed):
            provisioning.tenant_provision(tenant_id)
        close_old_connections()
    profiler.stop()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(profiler.output_text(unicode=True, color=False))
    print(
        f"{count} jobs one after the other in this process: {seconds / count * 1e3:.1f} ms each "
        f"({cpu / count * 1e3:.1f} ms CPU of this process); {sql[0] / count:.1f} SQL queries a "
        f"job, {sql[1] / count * 1e3:.1f} ms waiting for them"
    )


# 2. The floor -------------------------------------------------------------------------------------


def floor_run(
    node: Node, plans: dict[int, list[tuple]], values: dict[int, str], concurrency: int
) -> dict:
    """Each tenant's requests, as the job made them, from `concurrency` threads of one
    requests.Session each: a token's POST sends the tenant's value, a rule's POST its recorded
    body pointing at the token this run created."""
    import requests

    base = f"https://127.0.0.1:{node.port}"
    work: queue.Queue = queue.Queue()
    for tenant_id in sorted(plans):
        work.put(tenant_id)
    errors: list[str] = []
    made = [0] * concurrency

    def client(index: int) -> None:
        session = requests.Session()
        session.trust_env = False
        session.auth = (node.username, node.password)
        session.headers["Accept"] = "application/json"
        verify = str(node.ca_bundle)
        while True:
            try:
                tenant_id = work.get_nowait()
            except queue.Empty:
                break
            token_uri = ""
            for _tenant, method, path, query, body, _status in plans[tenant_id]:
                url = base + path + (f"?{query}" if query else "")
                if body is not None and "gms_access_token" in body:
                    body = {**body, "gms_access_token": token_uri}
                elif body is not None:
                    body = {**body, "token": values[tenant_id]}
                answer = session.request(method, url, json=body, verify=verify, timeout=30)
                made[index] += 1
                if answer.status_code >= 300:
                    errors.append(f"{method} {path} answered {answer.status_code}")
                elif method == "POST" and body is not None and "token" in body:
                    token_uri = answer.headers["Location"].removeprefix(base)
                elif method == "GET":
                    answer.json()
        session.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    node_start, own_start = cpu_seconds(node.pid), time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"the floor's requests failed: {errors[:5]}")
    return {
        "seconds": seconds,
        "requests": sum(made),
        "client_cpu": time.process_time() - own_start,
        "node_cpu": cpu_seconds(node.pid) - node_start,
        "connections": node.call("connections"),
    }


# 3 and 4. The sweep, in a fresh process -----------------------------------------------------------


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def sweep_process(trace_memory: bool) -> None:
    """Set up Django, run one sweep of the default gateway, print what it cost as JSON."""
    import django

    django.setup()
    from django.db import connection

    from onboarding.gateways import provisioning_sweep
    from onboarding.models import Gateway

    gateway = Gateway.objects.get(is_default=True)
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    # VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the peak of the forked copy of the parent
    # (the benchmark, holding thousands of tenants) from before exec.
    setup_peak = status_kib("VmHWM")
    before = status_kib("VmRSS")
    # From here the kernel's peak (VmHWM) is the sweep's: writing 5 resets it to the current RSS.
    Path("/proc/self/clear_refs").write_text("5")
    if trace_memory:
        import tracemalloc

        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        result = provisioning_sweep.gateway_sweep(gateway)
    seconds = time.perf_counter() - started
    peak = None
    if trace_memory:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    sweep_peak = status_kib("VmHWM")
    print(
        json.dumps(
            {
                "seconds": seconds,
                "setup_peak_kib": setup_peak,
                "rss_before_kib": before,
                "sweep_peak_kib": sweep_peak,
                "rss_peak_kib": max(setup_peak, sweep_peak),
                "traced_peak": peak,
                "queries": queries[0],
                "checked": result.tenants_checked,
                "repaired": result.repaired,
            }
        )
    )


def run_sweep(node: Node, *, trace_memory: bool) -> dict:
    before = node.trace_length()
    command = [sys.executable, str(Path(__file__).resolve()), "--sweep-process"]
    if trace_memory:
        command.append("--trace-memory")
    env = {**os.environ, "CELERY_BROKER_URL": "memory://", "CACHE_URL": "locmemcache://"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the sweep's process failed:\n{done.stderr[-3000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    measured["trace"] = node.trace(before)
    return measured


def sweep_goal(node: Node, run: dict, tenants: int) -> tuple[int, int]:
    """Print the sweep's requests against the bound; return (requests, bound)."""
    from onboarding.gateways.infinity_client import InfinityClient

    counts = node.call("counts")
    tokens, rules = counts["gms_access_token"], counts["gateway_routing_rule"]
    page = min(InfinityClient.page_size, node.max_limit)
    pages = math.ceil(tokens / page) + math.ceil(rules / page)
    trace = run["trace"]
    methods = Counter(step[1] for step in trace)
    one_tenant = sum(1 for step in trace if step[0] is not None)
    assert run["checked"] == tenants and run["repaired"] == 0, run
    print(
        f"   {tenants} tenants ({tokens} tokens, {rules} rules on the node), pages of {page} "
        f"(the client's page size {InfinityClient.page_size}, the node's cap {node.max_limit}):"
    )
    print(
        f"     wall {run['seconds']:.2f} s; checked {run['checked']}, repaired {run['repaired']}; "
        f"{run['queries']} SQL queries"
    )
    print(
        f"     node requests {len(trace)} "
        f"({', '.join(f'{m} {n}' for m, n in sorted(methods.items()))}; {one_tenant} of them "
        f"for one tenant); ceil({tokens}/{page}) + ceil({rules}/{page}) = {pages}, bound "
        f"{pages} + {EXTRA_SWEEP_REQUESTS} = {pages + EXTRA_SWEEP_REQUESTS}"
    )
    return len(trace), pages + EXTRA_SWEEP_REQUESTS


def memory_line(tenants: int, rss: dict, traced: dict) -> None:
    added = rss["sweep_peak_kib"] - rss["rss_before_kib"]
    print(
        f"   {tenants:>6} tenants: the process's peak RSS {rss['rss_peak_kib'] / 1024:.1f} MiB "
        f"(Django's setup peaked at {rss['setup_peak_kib'] / 1024:.1f} MiB; RSS "
        f"{rss['rss_before_kib'] / 1024:.1f} MiB before the sweep, its peak during the sweep "
        f"{rss['sweep_peak_kib'] / 1024:.1f} MiB, {added / 1024:+.1f}); "
        f"tracemalloc peak during the sweep {traced['traced_peak'] / 2**20:.1f} MiB "
        f"({traced['traced_peak'] / tenants / 1024:.1f} KiB per tenant)"
    )


# Main ---------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes")
    parser.add_argument("--node-latency", type=float, default=20, help="ms added to each answer")
    parser.add_argument("--sweep-tenants", type=int, default=10000)
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="instead: N tenants' jobs in this process under pyinstrument, one after the other",
    )
    parser.add_argument("--sweep-process", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trace-memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sweep_process:
        sweep_process(args.trace_memory)
        return
    if args.sweep_tenants < args.tenants:
        parser.error("--sweep-tenants is the larger gateway: at least --tenants")

    from tests.services import RedisServer

    broker = RedisServer().start()
    os.environ["CELERY_BROKER_URL"] = broker.url
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    node_proc = multiprocessing.get_context("spawn").Process(
        target=node_process, args=(theirs,), daemon=True
    )
    node_proc.start()
    lock = threading.Lock()
    worker = None
    try:
        fresh_database(BENCH_DATABASE)
        from tests.provisioning_support import make_infinity

        node = Node(ours, lock, "portal", node_proc.pid)
        floor_node = Node(ours, lock, "floor", node_proc.pid)
        for double in (node, floor_node):
            double.slow(args.node_latency / 1000)
        gateway = make_infinity(node)  # before the tenants exist: nothing is queued
        if args.profile:
            profile_jobs(args.profile)
            return
        values = create_tenants(0, args.tenants)
        worker = Worker(broker_url=broker.url, concurrency=args.concurrency)
        print(
            f"the Management Node double in its own process (pid {node_proc.pid}), "
            f"{args.node_latency:g} ms added to each answer; {os.cpu_count()} CPUs, load "
            f"average {os.getloadavg()[0]:.1f} at the start"
        )
        run = provision_through_worker(node, worker, values)
        worker.stop()
        worker = None
        plans = report_provisioning(run, args.tenants, args.concurrency)
        assert sorted(plans) == sorted(values), "a tenant's requests are missing from the trace"

        floor = floor_run(floor_node, plans, values, args.concurrency)
        portal_rate = args.tenants / run["seconds"]
        floor_rate = args.tenants / floor["seconds"]
        print(
            f"2. the floor: {args.concurrency} threads, a requests.Session each, the same "
            f"{floor['requests']} requests ({floor['requests'] / args.tenants:.2f} per tenant) "
            f"against an empty double with the same latency:"
        )
        print(
            f"   wall {floor['seconds']:.1f} s, {floor_rate:.1f} tenants/s; CPU per tenant: "
            f"the client {floor['client_cpu'] / args.tenants * 1e3:.1f} ms, the node double "
            f"{floor['node_cpu'] / args.tenants * 1e3:.1f} ms; {floor['connections']} connections "
            f"(one per thread, kept alive; the worker opened {run['connections']})"
        )
        ratio = portal_rate / floor_rate
        print(f"   the worker / the floor: {ratio:.2f}")

        print("3. the drift sweep of the gateway, nothing to repair:")
        small_rss = run_sweep(node, trace_memory=False)
        small_traced = run_sweep(node, trace_memory=True)
        sweep_goal(node, small_rss, args.tenants)
        extra = create_tenants(args.tenants, args.sweep_tenants - args.tenants, in_sync_on=gateway)
        node.call("prefill", mark_in_sync(gateway, sorted(extra), extra))
        large_rss = run_sweep(node, trace_memory=False)
        large_traced = run_sweep(node, trace_memory=True)
        requests_made, bound = sweep_goal(node, large_rss, args.sweep_tenants)

        print("4. peak memory of one sweep, each in a fresh process:")
        memory_line(args.tenants, small_rss, small_traced)
        memory_line(args.sweep_tenants, large_rss, large_traced)
        rss_growth = large_rss["rss_peak_kib"] / small_rss["rss_peak_kib"] - 1
        during_growth = large_rss["sweep_peak_kib"] / small_rss["sweep_peak_kib"] - 1
        traced_growth = large_traced["traced_peak"] / small_traced["traced_peak"] - 1
        print(
            f"   from {args.tenants} to {args.sweep_tenants} tenants: the process's peak RSS "
            f"{rss_growth:+.1%}; the peak RSS during the sweep {during_growth:+.1%}; the "
            f"tracemalloc peak {traced_growth:+.1%}"
        )

        print("goals:")
        print(
            f"   provisioning at least {FLOOR_GOAL} of the floor: {ratio:.2f} "
            f"({portal_rate:.1f} / {floor_rate:.1f} tenants/s): {verdict(ratio >= FLOOR_GOAL)}"
        )
        print(
            f"   a sweep of {args.sweep_tenants} unchanged tenants in at most {bound} requests: "
            f"{requests_made}: {verdict(requests_made <= bound)}"
        )
        print(
            f"   peak memory at most +{MEMORY_GOAL:.0%} from {args.tenants} to "
            f"{args.sweep_tenants} tenants (the process's peak RSS): {rss_growth:+.1%}: "
            f"{verdict(rss_growth <= MEMORY_GOAL)} (tracemalloc: {traced_growth:+.1%})"
        )
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    finally:
        if worker is not None:
            worker.stop()
        with lock:
            ours.send(("stop", "", None))
            ours.recv()
        node_proc.join(timeout=10)
        broker.cleanup()


if __name__ == "__main__":
    main()
