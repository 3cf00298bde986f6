"""A Celery worker keeps its PostgreSQL connection between tasks as the web server keeps it
between requests: for DATABASE_CONN_MAX_AGE seconds, pinged before a task's first query, so a
connection the database dropped costs no failed task.

Real worker processes on the test database; the test watches the worker's sessions in
pg_stat_activity, told apart by the application name the worker connects with (in a full run
another session, opened as the run starts, stays on the same database), and runs a periodic task
that leaves a heartbeat.
"""

from __future__ import annotations

import pytest
from django.db import connection

from onboarding.models import Heartbeat
from portal.celery import app
from tests.services import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

TASK = "onboarding.tasks.sweep_outbox"
HEARTBEAT = "outbox_sweeper"
WORKER_APPLICATION = "test-worker-database"


@pytest.fixture
def start_worker(celery_workers, test_database_url):
    """A worker whose sessions carry WORKER_APPLICATION as their application name."""

    def start(**extra_env: str):
        url = f"{test_database_url}?application_name={WORKER_APPLICATION}"
        return celery_workers(DATABASE_URL=url, **extra_env)

    return start


def worker_sessions() -> set[int]:
    """The backend pids of the worker's sessions on the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [WORKER_APPLICATION],
        )
        return {pid for (pid,) in cursor.fetchall()}


def run_task() -> None:
    """Queue the outbox sweep and wait for the heartbeat it records as it ends."""
    before = Heartbeat.objects.filter(name=HEARTBEAT).values_list("beat_at", flat=True).first()
    app.send_task(TASK)
    beats = Heartbeat.objects.filter(name=HEARTBEAT)
    wait_until(
        lambda: (beats.filter(beat_at__gt=before) if before else beats).exists(),
        what="the worker to run the outbox sweep",
    )


def test_a_worker_runs_its_tasks_on_one_kept_connection(start_worker):
    start_worker()

    run_task()
    wait_until(lambda: len(worker_sessions()) == 1, what="the worker's one kept session")
    kept = worker_sessions()
    run_task()
    run_task()

    assert worker_sessions() == kept


def test_a_connection_the_database_dropped_costs_no_failed_task(start_worker):
    worker = start_worker()
    run_task()
    wait_until(lambda: len(worker_sessions()) == 1, what="the worker's one kept session")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM unnest(%s) AS pid", [list(worker_sessions())]
        )
    wait_until(lambda: not worker_sessions(), what="the session to end")

    run_task()

    assert "raised unexpected" not in worker.output()
    assert len(worker_sessions()) == 1


def test_conn_max_age_zero_gives_each_task_a_new_connection(start_worker):
    start_worker(DATABASE_CONN_MAX_AGE="0")

    run_task()

    wait_until(lambda: not worker_sessions(), what="the worker to close its session after the task")
