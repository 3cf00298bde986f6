"""Running a script against a fresh SQLite file in its own process, as `make run` would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def sqlite_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This process's environment pointed at `tmp_path`'s SQLite file, plus `extra`."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        # nothing leaves this process: no shared Redis, no broker
        "CACHE_URL": "locmemcache://",
        "CELERY_BROKER_URL": "memory://",
        **extra,
    }


def run_on_sqlite(script: str, tmp_path: Path, **extra_env: str) -> Any:
    """Run `script` (which sets Django up and prints one JSON line last) on a new SQLite file;
    return what it printed, decoded. Fails the test with the script's stderr if it failed."""
    finished = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=sqlite_environment(tmp_path, **extra_env),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1])


def start_on_sqlite(script: str, tmp_path: Path, *args: str, **extra_env: str) -> subprocess.Popen:
    """Start `script` with `args` on `tmp_path`'s SQLite file, beside others; read it with
    `finished_output`."""
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=sqlite_environment(tmp_path, **extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished_output(process: subprocess.Popen, timeout: float = 120) -> Any:
    """What a script started by `start_on_sqlite` printed last, decoded, once it ended."""
    stdout, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])
