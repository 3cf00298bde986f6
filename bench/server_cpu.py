"""CPU time spent serving, read from /proc: gunicorn (master and workers), PostgreSQL and Redis.

Per request and per kind of process, it says where a page's cost lies (the upload page's
PostgreSQL side, say, against its gunicorn side). It is no cure for a busy machine: on this
shared 2-core machine the form floor took 3.0 and 3.9 ms of CPU a request in runs minutes apart,
as its throughput went from 640 to 490 req/s.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
DATABASE_AND_CACHE = ("postgres", "redis-server")


def serving_cpu_seconds(gunicorn_pid: int) -> dict[str, float]:
    """User and system CPU seconds used so far by the gunicorn master and its workers, and by
    every PostgreSQL and Redis process (living ones: workers and database sessions outlive a
    run, so differences between two readings are what the run cost), by kind."""
    ticks = dict.fromkeys(("gunicorn", *DATABASE_AND_CACHE), 0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(entry)
        if stat is None:
            continue
        pid, name, parent, used = stat
        if pid == gunicorn_pid or parent == gunicorn_pid:
            ticks["gunicorn"] += used
        elif name in DATABASE_AND_CACHE:
            ticks[name] += used
    return {kind: count / TICKS_PER_SECOND for kind, count in ticks.items()}


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {kind: after[kind] - before[kind] for kind in before}


def _stat(entry: Path) -> tuple[int, str, int, int] | None:
    try:
        text = (entry / "stat").read_text()
    except OSError:  # the process ended meanwhile
        return None
    # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split at the last ')'
    head, _, rest = text.rpartition(")")
    pid_text, _, name = head.partition(" (")
    fields = rest.split()
    # after comm: state(0) ppid(1) ... utime(11) stime(12)
    return int(pid_text), name, int(fields[1]), int(fields[11]) + int(fields[12])
