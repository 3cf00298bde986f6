"""Running a script against a fresh SQLite file in its own process, as `make run` would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_on_sqlite(script: str, tmp_path: Path) -> Any:
    """Run `script` (which sets Django up and prints one JSON line last) on a new SQLite file;
    return what it printed, decoded. Fails the test with the script's stderr if it failed."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        # nothing leaves this process: no shared Redis, no broker
        "CACHE_URL": "locmemcache://",
        "CELERY_BROKER_URL": "memory://",
    }
    finished = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1])
