"""Real services the tests start: an SMTP sink, a dedicated redis-server, a Celery worker.

Each runs for real on loopback; nothing here imitates the thing a test checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent


def reserve_port() -> int:
    """A free loopback port, found by binding port 0 (for servers that cannot bind 0 themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float = 20.0, interval: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what or condition}")


# SMTP ------------------------------------------------------------------------------------------


@dataclass
class SinkHandler:
    """aiosmtpd handler: stores what it accepts; can refuse, or hold a reply until released."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse_with: str = ""  # e.g. "451 4.3.0 Try again later"; empty accepts
    refuse_only_to: str = ""  # when set, refuse only mail to addresses ending with this
    hold_data: bool = False  # hold the DATA reply until released
    accept_held: bool = False  # on release, accept the held message (else refuse it)
    data_arrived: threading.Event = field(default_factory=threading.Event)
    quit_arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    refused: int = 0
    connections: int = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.data_arrived.set()
        targeted = not self.refuse_only_to or any(
            rcpt.endswith(self.refuse_only_to) for rcpt in envelope.rcpt_tos
        )
        if self.refuse_with and targeted:
            self.refused += 1
            return self.refuse_with
        if self.hold_data:
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
            if not self.accept_held:
                return "451 4.3.0 Held by the test, never accepted"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 2.0.0 OK"


class SmtpSink:
    def __init__(self) -> None:
        self.handler = SinkHandler()
        self.port = reserve_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.handler.release.set()
        self.controller.stop()

    def reset(self) -> None:
        self.handler.messages.clear()
        self.handler.refuse_with = self.handler.refuse_only_to = ""
        self.handler.hold_data = self.handler.accept_held = False
        self.handler.refused = self.handler.connections = 0
        for event in (self.handler.data_arrived, self.handler.release):
            event.clear()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        wait_until(
            lambda: len(self.messages) >= count,
            timeout=timeout,
            what=f"{count} email(s) at the SMTP sink (have {len(self.messages)})",
        )
        return self.messages


# Redis -----------------------------------------------------------------------------------------


class RedisServer:
    """A dedicated redis-server on a free port, for tests that stop and start Redis."""

    def __init__(self) -> None:
        self.port = reserve_port()
        self.process: subprocess.Popen | None = None
        self.workdir = tempfile.mkdtemp(prefix="test-redis-")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; `make test` installs it")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10, what=f"redis-server on port {self.port}")
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


# Celery ----------------------------------------------------------------------------------------


class CeleryWorker:
    """`celery worker` in its own process, on the test database and a given broker.

    The solo pool runs tasks in the main process, so SIGKILL really kills a task mid-flight.
    """

    def __init__(
        self,
        *,
        database_url: str,
        broker_url: str,
        email_url: str,
        extra_env: dict[str, str] | None = None,
        beat: bool = False,
    ) -> None:
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open for the worker's life)
            prefix="celery-worker-", suffix=".log", delete=False
        )
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "EMAIL_URL": email_url,
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.beat = beat
        if beat:
            self.env["CELERY_BEAT_SCHEDULE_FILENAME"] = f"{self.log.name}.beat-schedule"
        self.process: subprocess.Popen | None = None

    # what the process logs once it takes work
    ready_marker = b" ready."

    def command(self) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]
        if self.beat:
            command.append("--beat")
        return command

    def start(self) -> CeleryWorker:
        offset = Path(self.log.name).stat().st_size
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        wait_until(
            lambda: (
                self.ready_marker in Path(self.log.name).read_bytes()[offset:]
                or self.process.poll() is not None
            ),
            timeout=60,
            what=f"the {type(self).__name__}",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"the {type(self).__name__} exited early:\n{self.output()}")
        return self

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement, exactly like a crashed machine."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None

    def cleanup(self) -> None:
        self.stop()
        # shown by pytest only when the test failed: the worker's side of the story
        sys.stderr.write(f"--- {type(self).__name__} log ---\n{self.output()[-6000:]}\n")
        # the log, and the beat's schedule file (shelve may add a suffix to its name)
        for path in Path(self.log.name).parent.glob(f"{Path(self.log.name).name}*"):
            with contextlib.suppress(OSError):
                path.unlink()


class CeleryBeat(CeleryWorker):
    """`celery beat` on its own, with a schedule file of its own, as production runs it."""

    ready_marker = b"beat: Starting..."

    def __init__(self, **kwargs) -> None:
        super().__init__(beat=True, **kwargs)

    def command(self) -> list[str]:
        schedule = self.env["CELERY_BEAT_SCHEDULE_FILENAME"]
        command = [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO"]
        return [*command, f"--schedule={schedule}"]


# gunicorn --------------------------------------------------------------------------------------


class GunicornServer:
    """The production web server (portal/gunicorn.conf.py) in its own process, on the test
    database and a given broker; everything it writes (stdout and stderr) goes to one file."""

    def __init__(
        self,
        *,
        database_url: str,
        broker_url: str,
        email_url: str,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = reserve_port()
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open for the server's life)
            prefix="gunicorn-", suffix=".log", delete=False
        )
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "EMAIL_URL": email_url,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "1",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self) -> GunicornServer:
        command = [sys.executable, "-m", "gunicorn", "-c", "portal/gunicorn.conf.py", "portal.wsgi"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        wait_until(
            lambda: self.answers() or self.process.poll() is not None,
            timeout=60,
            what="gunicorn",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{self.output()}")
        return self

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def cleanup(self) -> None:
        self.stop()
        sys.stderr.write(f"--- gunicorn log ---\n{self.output()[-6000:]}\n")
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)


# pgbouncer -------------------------------------------------------------------------------------


class PgBouncer:
    """Debian's pgbouncer in transaction mode, on a free loopback port, in front of the local
    PostgreSQL: each transaction of a client may run on another server session."""

    def __init__(self, *, database: str, pool_size: int = 2) -> None:
        self.port = reserve_port()
        self.database = database
        # readable by the postgres user, whom pgbouncer becomes when started as root
        self.workdir = tempfile.mkdtemp(prefix="test-pgbouncer-")
        os.chmod(self.workdir, 0o755)  # noqa: S103 (holds no secret: trust auth on loopback)
        self.ini = Path(self.workdir) / "pgbouncer.ini"
        # its log goes to stderr, into a file this process opens (pgbouncer may not write here)
        self.log = Path(self.workdir) / "pgbouncer.log"
        users = Path(self.workdir) / "userlist.txt"
        users.write_text('"postgres" ""\n')
        self.ini.write_text(
            f"[databases]\n"
            f"{database} = host=127.0.0.1 port=5432 dbname={database}\n"
            f"[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            f"unix_socket_dir =\n"
            f"auth_type = trust\n"
            f"auth_file = {users}\n"
            f"pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\n"
            f"max_client_conn = 100\n"
            f"logfile =\n"
            f"pidfile =\n"
        )
        for path in (self.ini, users):
            path.chmod(0o644)
        self.process: subprocess.Popen | None = None

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> PgBouncer:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not os.path.exists(binary):
            raise RuntimeError("pgbouncer is not installed; `make test` installs it")
        # it refuses to run as root; -u makes it switch to that user first
        command = [binary, *(["-u", "postgres"] if os.geteuid() == 0 else []), str(self.ini)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(
            lambda: self.answers() or self.process.poll() is not None,
            timeout=20,
            what=f"pgbouncer on port {self.port}",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited early:\n{self.output()}")
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def cleanup(self) -> None:
        sys.stderr.write(f"--- pgbouncer log ---\n{self.output()[-3000:]}\n")
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)
