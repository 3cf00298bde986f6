"""Web throughput and latency of the portal's pages against the framework's own floors.

Serves the portal with gunicorn (the same workers for every target) on PostgreSQL (its own fresh
database, portal_bench_web) and a private redis-server (cache and broker), with the settings in
bench/settings.py: production's, with the rate limits lifted. wrk, a separate process, drives
each target over loopback for the same duration at each connection count (16 for throughput,
4 for latency). SQL queries per request are counted in-process (Django's test client and
CaptureQueriesContext), once per target, on the same database.

Targets: the framework floor (a short plain response), the form floor (the upload form rendered
as the upload page renders it, no database), the upload page (GET, a valid link), the upload
POST (a fresh link and a valid token per request; only successful uploads count), /healthz, and
the admin tenant list (a staff session) with 100 and with 10,000 tenants.

    python bench/web.py [--duration 10] [--connections 16 4] [--workers 4] [--repeat 1]
    python bench/web.py --only upload-get upload-post   # some targets, with the two floors
    python bench/web.py --profile upload-get      # where a page's time goes (pyinstrument)
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database  # noqa: E402 (needs ROOT on the path)
from bench.server_cpu import cpu_used, serving_cpu_seconds  # noqa: E402
from bench.web_report import Measurement, report  # noqa: E402
from bench.web_server import Gunicorn  # noqa: E402
from bench.wrk import WrkResult, get_script, post_script, wrk_run  # noqa: E402

BENCH_DATABASE = "portal_bench_web"
ONLY_CHOICES = ("upload-get", "upload-post", "healthz", "admin")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
# served as deployed: whitenoise with the hashed names collectstatic writes (see main)
os.environ["STATIC_ROOT"] = str(ROOT / "var" / "bench-static")
ADMIN_LIST = "/admin/onboarding/tenant/"
# Upload links made per POST run: the upload GET's rate at the same connection count times the
# run's length times this, so a run never runs out of fresh links (a POST is never cheaper).
LINKS_PER_EXPECTED_POST = 1.5


@dataclass
class Target:
    key: str
    label: str
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    post: bool = False


@dataclass
class Bench:
    args: argparse.Namespace
    server: Gunicorn
    workdir: Path
    csrf_secret: str = ""
    measurements: list[Measurement] = field(default_factory=list)

    def wrk_threads(self, connections: int) -> int:
        return max(1, min(2, connections))

    def timed_wrk_run(self, url: str, **options: Any) -> tuple[WrkResult, dict[str, float]]:
        """wrk's figures, and the CPU seconds gunicorn, PostgreSQL and Redis used meanwhile."""
        before = serving_cpu_seconds(self.server.pid)
        result = wrk_run(url, **options)
        return result, cpu_used(before, serving_cpu_seconds(self.server.pid))

    def run_get(self, target: Target, queries: int) -> None:
        script = get_script(target.headers)
        self._warm_up(target.path, script)
        for connections in self.args.connections:
            runs = [
                self.timed_wrk_run(
                    self.server.url(target.path),
                    script=script,
                    connections=connections,
                    seconds=self.args.duration,
                    threads=self.wrk_threads(connections),
                    workdir=self.workdir,
                )
                for _ in range(self.args.repeat)
            ]
            median, cpu = sorted(runs, key=lambda run: run[0].rps)[(len(runs) - 1) // 2]
            self.measurements.append(
                Measurement(target.key, target.label, connections, median, queries=queries, cpu=cpu)
            )
            print(
                f"  {target.label:<28} {connections:>3} conns  {median.rps:9.1f} req/s", flush=True
            )

    def _warm_up(self, path: str, script: str) -> None:
        if self.args.warmup > 0:
            wrk_run(
                self.server.url(path),
                script=script,
                connections=max(self.args.connections),
                seconds=self.args.warmup,
                threads=2,
                workdir=self.workdir,
            )

    def run_post(self, target: Target, queries: int) -> None:
        from bench import web_data

        for connections in self.args.connections:
            # links enough for the page's GET rate (the form floor's, when the GET did not run)
            rates = {m.key: m.result.rps for m in self.measurements if m.connections == connections}
            get_rate = rates.get("upload-get") or rates["form-floor"]
            runs = []
            for attempt in range(self.args.repeat + (1 if self.args.warmup > 0 else 0)):
                warm_up = self.args.warmup > 0 and attempt == 0
                seconds = self.args.warmup if warm_up else self.args.duration
                count = int(get_rate * seconds * LINKS_PER_EXPECTED_POST) + 100
                before = web_data.newest_invitation_id()
                paths = web_data.upload_links(count, label=f"post-{connections}-{attempt}")
                result, cpu = self.timed_wrk_run(
                    self.server.url(paths[0]),
                    script=post_script(
                        paths,
                        bodies=[self.post_body(n) for n in range(count)],
                        headers=target.headers,
                        threads=self.wrk_threads(connections),
                    ),
                    connections=connections,
                    seconds=seconds,
                    threads=self.wrk_threads(connections),
                    workdir=self.workdir,
                )
                uploads = web_data.uploads_since(before)
                if warm_up:
                    continue
                measurement = Measurement(
                    target.key,
                    target.label,
                    connections,
                    result,
                    queries=queries,
                    successes=uploads,
                    links=count,
                    cpu=cpu,
                )
                runs.append(measurement)
            median = sorted(runs, key=lambda run: run.rate)[(len(runs) - 1) // 2]
            self.measurements.append(median)
            print(
                f"  {target.label:<28} {connections:>3} conns  {median.rate:9.1f} uploads/s",
                flush=True,
            )

    def post_body(self, number: int) -> str:
        return f"csrfmiddlewaretoken={self.csrf_secret}&token=bench-token-{number}&trusted=on"


def count_queries(path: str, *, headers: dict[str, str], body: str = "", expect: int) -> int:
    """SQL queries of one request, in-process, after one warm-up request (caches filled)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(
        enforce_csrf_checks=True,
        headers={k: v for k, v in headers.items() if k not in ("Cookie", "Content-Type")},
    )
    for cookie in headers.get("Cookie", "").split("; "):
        if cookie:
            name, value = cookie.split("=", 1)
            client.cookies[name] = value

    def send(to: str):
        if body:
            return client.generic("POST", to, body, "application/x-www-form-urlencoded")
        return client.get(to)

    paths = path if isinstance(path, list) else [path, path]
    send(paths[0])
    with CaptureQueriesContext(connection) as queries:
        response = send(paths[1])
    if response.status_code != expect:
        raise SystemExit(f"{paths[1]} answered {response.status_code}, expected {expect}")
    return len(queries)


def preflight(server: Gunicorn, target: Target) -> None:
    """The page answers 200 through gunicorn (a login redirect would measure the wrong page)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", target.path, headers=target.headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 200:
        raise SystemExit(
            f"{target.label}: {target.path} answered {response.status} through "
            f"gunicorn, expected 200 (see {server.log_path})"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--warmup",
        type=float,
        default=2,
        help="seconds of unmeasured load before each target (0: none)",
    )
    parser.add_argument(
        "--connections", type=int, nargs=2, default=[16, 4], metavar=("THROUGHPUT", "LATENCY")
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per target; the median run counts"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=ONLY_CHOICES,
        metavar="TARGET",
        help="run these targets only (the two floors always run, for the ratios): "
        + ", ".join(ONLY_CHOICES),
    )
    parser.add_argument(
        "--tenants", type=int, nargs=2, default=[100, 10_000], metavar=("SMALL", "LARGE")
    )
    parser.add_argument(
        "--profile",
        metavar="TARGET",
        help="profile one target in-process "
        "with pyinstrument instead of the benchmark: framework-floor, "
        "form-floor, upload-get, upload-post, healthz, admin",
    )
    parser.add_argument("--profile-requests", type=int, default=200)
    parser.add_argument("--profile-tenants", type=int, default=10_000)
    parser.add_argument("--profile-all", action="store_true", help="show Django's frames too")
    parser.add_argument("--profile-flat", action="store_true", help="functions by own time")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    from tests.services import RedisServer

    redis = RedisServer().start()
    os.environ["CACHE_URL"] = f"redis://127.0.0.1:{redis.port}/1"
    os.environ["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{redis.port}/0"
    try:
        fresh_database(BENCH_DATABASE)
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
        if args.profile:
            from bench.web_profile import profile

            profile(args)
            return
        _benchmark(args, redis.port)
    finally:
        redis.cleanup()


def _benchmark(args: argparse.Namespace, redis_port: int) -> None:
    from django.conf import settings
    from django.utils.crypto import get_random_string

    from bench import web_data
    from onboarding.services.heartbeats import heartbeat_record

    if settings.CSRF_USE_SESSIONS:
        raise SystemExit("CSRF_USE_SESSIONS is on: bench/web.py's POST sends a CSRF cookie.")
    load_before = os.getloadavg()
    upload_path = web_data.upload_tenant()
    cookie_name, cookie_value = web_data.staff_session_cookie()
    staff = {"Cookie": f"{cookie_name}={cookie_value}"}
    csrf_secret = get_random_string(32)
    targets = {
        "framework-floor": Target("framework-floor", "framework floor", "/bench/floor/"),
        "form-floor": Target("form-floor", "form floor", "/bench/form-floor/"),
        "upload-get": Target("upload-get", "upload page GET", upload_path),
        "upload-post": Target(
            "upload-post",
            "upload POST",
            post=True,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"{settings.CSRF_COOKIE_NAME}={csrf_secret}",
            },
        ),
        "healthz": Target("healthz", "/healthz", "/healthz"),
    }
    small, large = args.tenants
    for size in (small, large):
        targets[f"admin-{size}"] = Target(
            f"admin-{size}", f"admin tenant list, {size:,} tenants", ADMIN_LIST, headers=staff
        )

    workdir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    server = Gunicorn(
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        log_dir=ROOT / "var",
    ).start()
    bench = Bench(args=args, server=server, workdir=workdir, csrf_secret=csrf_secret)
    print(
        f"gunicorn: {args.workers} {args.worker_class} workers x {args.threads} thread(s); "
        f"wrk: {args.duration:g} s per run at {args.connections[0]} and "
        f"{args.connections[1]} connections; rate limits OFF (bench.settings)",
        flush=True,
    )
    chosen = set(args.only or ONLY_CHOICES) | {"framework-floor", "form-floor"}
    try:
        for key in ("framework-floor", "form-floor", "upload-get", "healthz"):
            if key not in chosen:
                continue
            if key == "healthz":
                heartbeat_record("bench")  # /healthz wants a recent scheduler heartbeat
            target = targets[key]
            queries = count_queries(target.path, headers=target.headers, expect=200)
            preflight(server, target)
            bench.run_get(target, queries)
        for size in (small, large) if "admin" in chosen else ():
            web_data.tenants_add(size - web_data.tenant_count(), label=f"t{size}")
            target = targets[f"admin-{size}"]
            queries = count_queries(ADMIN_LIST, headers=staff, expect=200)
            preflight(server, target)
            bench.run_get(target, queries)
        if "upload-post" in chosen:
            post = targets["upload-post"]
            post_queries = count_queries(
                web_data.upload_links(2, label="post-queries"),
                headers=post.headers,
                body=bench.post_body(0),
                expect=302,
            )
            bench.run_post(post, post_queries)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    report(
        bench.measurements,
        args=args,
        admin_keys=(f"admin-{small}", f"admin-{large}"),
        load=(load_before, os.getloadavg()),
        database=BENCH_DATABASE,
        redis_port=redis_port,
    )


if __name__ == "__main__":
    main()
