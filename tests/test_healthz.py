"""/healthz answers 200 while the database answers, and 503 (saying so) when it does not.

/healthz also reports the broker (the test Redis) and the scheduler; the scheduler counts as alive
here because each test records a fresh heartbeat, as a running beat would.
"""

import logging
import socket
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from onboarding.services.heartbeats import heartbeat_record


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: the kernel's pick, released at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def database_unreachable():
    """Point the default connection at a closed port, then put it back."""
    original = connection.settings_dict.copy()
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)


@pytest.fixture
def scheduler_beating(db):
    heartbeat_record("scheduler")


def test_healthz_is_ok_while_the_database_answers(client, scheduler_beating):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    assert "no-cache" in response["Cache-Control"]


# transaction=True: no test transaction may be open on the connection that is broken here.
@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_is_unreachable(client, scheduler_beating, caplog):
    with database_unreachable(), caplog.at_level(logging.WARNING, "onboarding.views.health"):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "failing"
    assert response.json()["checks"]["database"] == "failing"
    assert "database unreachable" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_healthz_is_ok_again_once_the_database_is_back(client, scheduler_beating):
    with database_unreachable():
        assert client.get("/healthz").status_code == 503

    response = client.get("/healthz")

    assert response.status_code == 200


def test_healthz_refuses_post(client):
    response = client.post("/healthz")

    assert response.status_code == 405


def test_healthz_is_503_when_the_broker_is_down(client, scheduler_beating, broker):
    assert client.get("/healthz").status_code == 200
    broker.stop()

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "broker": "failing",
        "scheduler": "ok",
    }


@pytest.mark.django_db
def test_healthz_is_503_when_the_scheduler_has_not_beaten_recently(client, settings):
    heartbeat_record("outbox_sweeper", now=timezone.now() - timedelta(minutes=10))
    settings.SCHEDULER_HEARTBEAT_MAX_AGE = timedelta(minutes=3)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["scheduler"] == "failing"


@pytest.mark.django_db
def test_a_fresh_scheduler_start_counts_as_alive(client):
    from celery.signals import beat_init

    beat_init.send(sender=None)

    assert client.get("/healthz").json()["checks"]["scheduler"] == "ok"


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"TOKEN_ENCRYPTION_KEYS": ""}, "TOKEN_ENCRYPTION_KEYS is not set"),
        ({"TOKEN_ENCRYPTION_KEYS": "not-a-fernet-key"}, "is not a valid Fernet key"),
        ({"TOKEN_FINGERPRINT_KEY": "short"}, "TOKEN_FINGERPRINT_KEY must be set"),
        ({"EMAIL_URL": "consolemail://"}, "the console backend is for DEBUG only"),
    ],
)
def test_missing_or_invalid_secrets_stop_the_process_at_start_up(environment, message):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DEBUG": "false",
        **environment,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.django_db
def test_jobs_waiting_for_their_first_run_leave_healthz_ok(client):
    """A fresh start: the scheduler beat, no periodic job has run yet (the hourly ones wait an
    hour). /healthz judges the scheduler by its newest beat, never a job's first run."""
    heartbeat_record("scheduler", now=timezone.now() - timedelta(minutes=2))

    response = client.get("/healthz")

    assert response.json()["checks"]["scheduler"] == "ok"
