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


@beat_init.connect
def record_scheduler_start(**_kwargs: object) -> None:
    """The scheduler's first heartbeat, so a fresh start is healthy before any sweep has run."""
    from onboarding.services.heartbeats import heartbeat_record

    heartbeat_record("scheduler")
