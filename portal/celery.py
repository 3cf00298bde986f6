"""The Celery application: settings come from Django's, under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def record_scheduler_start(**_kwargs: object) -> None:
    """The scheduler's first heartbeat, so a fresh start is healthy before any sweep has run."""
    from onboarding.heartbeats import heartbeat_record

    heartbeat_record("scheduler")
