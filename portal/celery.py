"""The Celery application: settings come from Django's, under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import beat_init, before_task_publish, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _connect_request_ids() -> None:
    """A request's id follows the tasks it queues into the worker's log lines."""
    from onboarding.infra import request_ids

    before_task_publish.connect(request_ids.task_publish_add_request_id, weak=False)
    task_prerun.connect(request_ids.task_prerun_set_request_id, weak=False)
    task_postrun.connect(request_ids.task_postrun_clear_request_id, weak=False)


_connect_request_ids()


def _tasks_keep_connections_like_requests() -> None:
    """A task treats its database connection as a request does: kept for CONN_MAX_AGE, pinged
    before its first query (CONN_HEALTH_CHECKS), closed when unusable. A new PostgreSQL
    connection per task cost the database more CPU than a provisioning job's own queries
    (bench/provision.py)."""
    from django.db import close_old_connections

    def close_unusable_or_obsolete(sender: object = None, **_kwargs: object) -> None:
        if not getattr(getattr(sender, "request", None), "is_eager", False):
            close_old_connections()

    task_prerun.connect(close_unusable_or_obsolete, weak=False)
    task_postrun.connect(close_unusable_or_obsolete, weak=False)


_tasks_keep_connections_like_requests()


@beat_init.connect
def record_scheduler_start(**_kwargs: object) -> None:
    """The scheduler's first heartbeat, so a fresh start is healthy before any sweep has run."""
    from onboarding.services.heartbeats import heartbeat_record

    heartbeat_record("scheduler")
