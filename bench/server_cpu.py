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


def serving_cpu_seconds(gunicorn_pid: int) -> dict[int, tuple[str, float]]:
    """User and system CPU seconds used so far by each serving process: the gunicorn master and
    its workers, and every PostgreSQL and Redis process, by pid, with its kind."""
    used: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(entry)
        if stat is None:
            continue
        pid, name, parent, ticks = stat
        if pid == gunicorn_pid or parent == gunicorn_pid:
            used[pid] = ("gunicorn", ticks / TICKS_PER_SECOND)
        elif name in DATABASE_AND_CACHE:
            used[pid] = (name, ticks / TICKS_PER_SECOND)
    return used


def cpu_used(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """What the processes used between two readings, by kind. A process that started meanwhile
    counts whole; one that ended meanwhile (a database session closed after its idle time) is
    not seen in the second reading, and what it used in between is missed, never subtracted."""
    spent = dict.fromkeys(("gunicorn", *DATABASE_AND_CACHE), 0.0)
    for pid, (kind, seconds) in after.items():
        earlier = before.get(pid)
        spent[kind] += seconds - (earlier[1] if earlier and earlier[0] == kind else 0.0)
    return spent


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
