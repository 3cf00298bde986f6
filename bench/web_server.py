"""The portal under gunicorn for bench/web.py: started on a free loopback port, stopped after."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60


class Gunicorn:
    def __init__(self, *, workers: int, worker_class: str, threads: int, log_dir: Path) -> None:
        from tests.services import reserve_port

        self.port = reserve_port()
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / "bench-web-gunicorn.log"
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("gunicorn is not running")
        return self.process.pid

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Gunicorn:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={self.workers}",
            f"--worker-class={self.worker_class}",
            f"--threads={self.threads}",
            "--backlog=2048",
            "--log-level=warning",
        ]
        environment = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"gunicorn did not start; see {self.log_path}")
            time.sleep(0.2)
        return self

    def _answers(self) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("GET", "/bench/floor/")
            status = connection.getresponse().status
            connection.close()
        except OSError:
            return False
        return status == 200

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
