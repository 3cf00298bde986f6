"""`make run` as a newcomer meets it: scripts/run.sh in a fresh copy of the checkout (SQLite,
the filesystem broker, no settings in the environment) on a port of its own. The demo's initial
email lands as an .eml file under var/mail/, its link opens the upload page on that port, the
console never shows the link's signature, and a TERM stops every process within seconds.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser_support import REPO_ROOT
from tests.services import reserve_port
from tests.test_project_files import clean_environment

# first run: migrations, seeding, the worker's start; generous on a busy two-core machine
EMAIL_WAIT_SECONDS = 150
# run.sh kills what is still running after its own grace period (20 s); stopping must not
# need that
STOP_SECONDS = 15
# the demo tenant seed_demo enables: its name is in its emails' subjects, so in the file names
DEMO_TENANT_IN_NAME = "demo-acme"
# Observed on this project: when the worker's whole process group got the TERM, its pool
# processes died of it at once ("Process 'ForkPoolWorker-1' ... exited with 'signal 15
# (SIGTERM)'") and the worker then sometimes hung in its warm shutdown for good (2 of 5 tries,
# only once it had run ~20 s). The hang is a race; the pool processes' deaths are certain, so
# the test checks for those, after letting the portal run a while.
RUN_BEFORE_STOP_SECONDS = 25
POOL_KILLED_FROM_OUTSIDE = "exited with 'signal 15 (SIGTERM)'"


def checkout_copy(destination: Path) -> Path:
    """The checkout's files as they are now (tracked and new ones, not ignored ones), with the
    virtualenv linked, not reinstalled."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = REPO_ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(REPO_ROOT / ".venv")
    return destination


def wait_for(find, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"no {what} within {seconds} s")


def initial_email(mail_folder: Path):
    """The first email to Demo Acme that carries an upload link."""
    files = sorted(mail_folder.glob(f"*{DEMO_TENANT_IN_NAME}*.eml")) if mail_folder.is_dir() else []
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if "/upload/" in message.get_body(("plain",)).get_content():
            return message
    return None


def group_alive(pgid: int) -> bool:
    states = subprocess.run(
        ["ps", "-e", "-o", "pgid=,stat="], capture_output=True, text=True
    ).stdout.split("\n")
    return any(
        line.split()[0] == str(pgid) and not line.split()[1].startswith("Z")
        for line in states
        if line.strip()
    )


@pytest.fixture
def make_run(tmp_path):
    checkout = checkout_copy(tmp_path / "checkout")
    port = reserve_port()
    log = (tmp_path / "console.log").open("wb")
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=checkout,
        env=clean_environment(PORT=str(port)),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield checkout, port, process, tmp_path / "console.log"
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        for child in children_of(process.pid):
            os.killpg(child, signal.SIGKILL)
        process.wait()
    log.close()


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_the_demos_initial_email_link_opens_the_upload_page_and_ctrl_c_stops_everything(
    make_run,
):
    checkout, port, process, console = make_run
    started = time.monotonic()

    message = wait_for(
        lambda: initial_email(checkout / "var" / "mail"), EMAIL_WAIT_SECONDS, "initial email"
    )
    text = message.get_body(("plain",)).get_content()
    [link] = re.findall(rf"http://127\.0\.0\.1:{port}/upload/[^\s/]+/", text)
    page = wait_for(lambda: fetch(link), 30, "upload page")

    assert "Demo Acme" in page
    assert "var/mail/" in console.read_text()
    signature = link.rstrip("/").rsplit("/", 1)[1]
    assert signature not in console.read_text()  # the request log line is redacted

    children = children_of(process.pid)
    time.sleep(max(0.0, RUN_BEFORE_STOP_SECONDS - (time.monotonic() - started)))
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=STOP_SECONDS)
    assert [pid for pid in children if group_alive(pid)] == []
    assert "did not stop" not in console.read_text()
    assert "Warm shutdown" in console.read_text()
    assert POOL_KILLED_FROM_OUTSIDE not in console.read_text()


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own http URL)
            return response.read().decode()
    except OSError:
        return None
