"""bench/web.py's printed table and goals."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

from bench.wrk import WrkResult

FLOORS = ("framework-floor", "form-floor")
# of the form floor's throughput: a guard against gross regressions, no more (a customer opens
# the page a few times); the upload POST has no throughput goal, only its p99
UPLOAD_GET_GOAL = 0.4
P99_GOAL_MS = 150.0
ADMIN_QUERY_GOAL = 10
ADMIN_GROWTH_GOAL = 1.5  # time at the large tenant count over time at the small one


@dataclass(frozen=True)
class Measurement:
    key: str
    label: str
    connections: int
    result: WrkResult
    queries: int
    successes: int | None = None  # upload POST: uploads stored (wrk counts every answer)
    links: int = 0
    # CPU seconds gunicorn, PostgreSQL and Redis used during the run, by kind
    cpu: dict[str, float] = field(default_factory=dict)

    def cpu_ms_of(self, kind: str | None = None) -> float:
        """Serving CPU per request (per stored upload, for the POST), of one kind or all."""
        done = self.successes if self.successes is not None else self.result.requests
        used = sum(self.cpu.values()) if kind is None else self.cpu.get(kind, 0.0)
        return used * 1000 / done if done else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.cpu_ms_of()

    @property
    def rate(self) -> float:
        if self.successes is None:
            return self.result.rps
        # uploads still in flight when wrk stopped were stored but not counted by wrk
        counted = min(self.successes, self.result.requests)
        return counted / self.result.seconds if self.result.seconds else 0.0

    @property
    def notes(self) -> str:
        notes = []
        if self.result.requests == 0:
            notes.append("NO ANSWER within the run: too slow for its length (try --duration)")
        if self.cpu:
            notes.append(
                f"CPU ms: gunicorn {self.cpu_ms_of('gunicorn'):.2f}, "
                f"PostgreSQL {self.cpu_ms_of('postgres'):.2f}, "
                f"Redis {self.cpu_ms_of('redis-server'):.2f}"
            )
        if self.successes is not None:
            notes.append(
                f"{self.successes:,} uploads stored of {self.result.requests:,} "
                f"requests ({self.links:,} fresh links)"
            )
            if self.successes >= self.links:
                notes.append("RAN OUT OF LINKS")
        if self.result.non_2xx_3xx:
            notes.append(f"{self.result.non_2xx_3xx:,} non-2xx/3xx")
        if self.result.socket_errors:
            notes.append(f"{self.result.socket_errors:,} socket errors")
        return "; ".join(notes)


def _find(measurements: list[Measurement], key: str, connections: int) -> Measurement | None:
    return next((m for m in measurements if m.key == key and m.connections == connections), None)


def report(
    measurements: list[Measurement],
    *,
    args: argparse.Namespace,
    admin_keys: tuple[str, str],
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
    database: str,
    redis_port: int,
) -> None:
    throughput, latency = args.connections
    print(
        f"Portal web benchmark: gunicorn, {args.workers} {args.worker_class} worker(s) x "
        f"{args.threads} thread(s), on PostgreSQL ({database}) and Redis (127.0.0.1:"
        f"{redis_port}); wrk over loopback, {args.duration:g} s per run (median of "
        f"{args.repeat}), {throughput} and {latency} connections."
    )
    print("Rate limits: OFF for this benchmark (bench/settings.py sets RATELIMIT_ENABLE=false).")
    print(
        f"CPU cores: {os.cpu_count()}; load average before {load[0][0]:.1f}, after "
        f"{load[1][0]:.1f} (a busy machine makes every figure noisy)."
    )
    print("Queries: SQL per request, counted in-process. Upload POST: uploads stored per second.")
    print(
        "CPU ms: CPU time gunicorn, PostgreSQL and Redis used per request (per stored upload), "
        "from /proc; its /form is\nthe form floor's over the target's, the throughput ratio "
        "with the other load on the machine taken out."
    )
    print()
    header = (
        f"{'target':<34}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'queries':>9}{'/framework':>11}{'/form':>7}{'CPU ms':>8}{'/form':>7}  notes"
    )
    print(header)
    print("-" * len(header))
    for connections in (throughput, latency):
        framework = _find(measurements, "framework-floor", connections)
        form = _find(measurements, "form-floor", connections)
        for m in (m for m in measurements if m.connections == connections):
            to_framework = m.rate / framework.rate if framework and framework.rate else 0
            to_form = m.rate / form.rate if form and form.rate else 0
            cpu_to_form = form.cpu_ms / m.cpu_ms if form and m.cpu_ms else 0
            print(
                f"{m.label:<34}{connections:>6}{m.rate:>10.1f}{m.result.p50_ms:>9.1f}"
                f"{m.result.p99_ms:>9.1f}{m.queries:>9}{to_framework:>11.2f}{to_form:>7.2f}"
                f"{m.cpu_ms:>8.2f}{cpu_to_form:>7.2f}  {m.notes}"
            )
        print()
    _goals(measurements, throughput, latency, admin_keys)


def _goals(
    measurements: list[Measurement], throughput: int, latency: int, admin_keys: tuple[str, str]
) -> None:
    def ratio(key: str, floor: str, connections: int) -> float:
        page, base = _find(measurements, key, connections), _find(measurements, floor, connections)
        return page.rate / base.rate if page and base and base.rate else 0.0

    def cpu_ratio(key: str, floor: str, connections: int) -> float:
        page, base = _find(measurements, key, connections), _find(measurements, floor, connections)
        return base.cpu_ms / page.cpu_ms if page and base and page.cpu_ms else 0.0

    def p99(key: str) -> float:
        found = _find(measurements, key, latency)
        return found.result.p99_ms if found else float("inf")

    small = _find(measurements, admin_keys[0], latency)
    large = _find(measurements, admin_keys[1], latency)
    small_rate = _find(measurements, admin_keys[0], throughput)
    large_rate = _find(measurements, admin_keys[1], throughput)
    growth = (
        large.result.p50_ms / small.result.p50_ms
        if small and large and small.result.p50_ms
        else float("inf")
    )
    rate_growth = (
        small_rate.rate / large_rate.rate if small_rate and large_rate and large_rate.rate else 0.0
    )
    queries = (small.queries, large.queries) if small and large else (-1, -1)
    goals = [
        (
            f"upload GET / form floor at {throughput} conns",
            f"{ratio('upload-get', 'form-floor', throughput):.2f} "
            f"(by CPU {cpu_ratio('upload-get', 'form-floor', throughput):.2f})",
            f">= {UPLOAD_GET_GOAL}",
            ratio("upload-get", "form-floor", throughput) >= UPLOAD_GET_GOAL,
        ),
        (
            f"upload GET p99 at {latency} conns",
            f"{p99('upload-get'):.1f} ms",
            f"< {P99_GOAL_MS:g} ms",
            p99("upload-get") < P99_GOAL_MS,
        ),
        (
            f"upload POST p99 at {latency} conns",
            f"{p99('upload-post'):.1f} ms",
            f"< {P99_GOAL_MS:g} ms",
            p99("upload-post") < P99_GOAL_MS,
        ),
        (
            "admin list queries, small / large",
            f"{queries[0]} / {queries[1]}",
            f"equal, <= {ADMIN_QUERY_GOAL}",
            queries[0] == queries[1] and 0 <= queries[0] <= ADMIN_QUERY_GOAL,
        ),
        (
            f"admin list p50 large / small at {latency} conns",
            f"{growth:.2f} (throughput {rate_growth:.2f})",
            f"<= {ADMIN_GROWTH_GOAL}",
            growth <= ADMIN_GROWTH_GOAL,
        ),
    ]
    measured = {m.key for m in measurements}
    # the target each goal above is about, in the same order
    needs = ["upload-get", "upload-get", "upload-post", admin_keys[0], admin_keys[0]]
    print("Goals")
    for (name, value, goal, met), target in zip(goals, needs, strict=True):
        verdict = ("met   " if met else "MISSED") if target in measured else "not run"
        print(f"  {verdict:<6}  {name:<44}{value:<24}goal {goal}")
