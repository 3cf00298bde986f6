"""Driving wrk (Debian's package) from bench/web.py: a Lua script per target, one run, its figures.

Every run gets a Lua script; its `done` hook prints the figures as one JSON line, so nothing
depends on wrk's human-readable layout. Only the upload POST defines `request` (a fresh link per
request); no script defines `response`, which would make wrk hand every body to Lua and slow the
client down for that target alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MARKER = "BENCH-JSON "
DONE_HOOK = r"""
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH-JSON {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, "
    .. "\"status_errors\": %d, \"connect\": %d, \"read\": %d, \"write\": %d, \"timeout\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_binary() -> str:
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit(
            "wrk is not installed. Install Debian's package (apt-get install wrk), or run "
            "`make bench` / scripts/bench.sh, which installs it."
        )
    return binary


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for ASCII


def get_script(headers: dict[str, str]) -> str:
    lines = ['wrk.method = "GET"']
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n" + DONE_HOOK


def post_script(
    paths: list[str], *, bodies: list[str], headers: dict[str, str], threads: int
) -> str:
    """POST to each path once, in order, spread over wrk's threads (thread i takes i, i+T, ...).

    The list wraps around when a run outlasts it; a used link answers 200 with the "received"
    page, so bench/web.py counts successful uploads in the database, not wrk's requests.
    """
    lines = ['wrk.method = "POST"']
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    lines.append("local paths = {")
    lines += [f"  {_lua_string(p)}," for p in paths]
    lines.append("}")
    lines.append("local bodies = {")
    lines += [f"  {_lua_string(b)}," for b in bodies]
    lines.append("}")
    lines.append(
        f"""
local created = 0
setup = function(thread)
  thread:set("thread_number", created)
  created = created + 1
end
local sent = 0
request = function()
  local index = (sent * {threads} + thread_number) % #paths + 1
  sent = sent + 1
  return wrk.format(nil, paths[index], nil, bodies[index])
end
"""
    )
    return "\n".join(lines) + DONE_HOOK


def wrk_run(
    url: str, *, script: str, connections: int, seconds: float, threads: int, workdir: Path
) -> WrkResult:
    script_path = workdir / "wrk-script.lua"
    script_path.write_text(script)
    command = [
        wrk_binary(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds:g}s",
        # a slow page on a busy machine still counts; wrk drops answers slower than this
        f"--timeout={max(10.0, seconds):g}s",
        "--latency",
        f"--script={script_path}",
        url,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    figures = next(
        (line for line in completed.stdout.splitlines() if line.startswith(MARKER)), None
    )
    if completed.returncode != 0 or figures is None:
        raise RuntimeError(
            f"wrk failed ({completed.returncode}) on {url}:\n{completed.stdout}{completed.stderr}"
        )
    data = json.loads(figures[len(MARKER) :])
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non_2xx_3xx=data["status_errors"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
    )
