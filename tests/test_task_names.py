"""Celery task names: queued messages and beat entries find their task by name, so a task's
name must not change when its module moves (each is given explicitly in onboarding/tasks.py)."""

import pytest
from django.conf import settings

from onboarding.mail import outbox
from portal.celery import app

TASK_NAMES = {
    "onboarding.tasks.send_emails",
    "onboarding.tasks.sweep_outbox",
    "onboarding.tasks.sweep_dns",
    "onboarding.tasks.destroy_expired_tokens",
    "onboarding.tasks.send_reminders",
    "onboarding.tasks.erase_offboarded_contacts",
    "onboarding.tasks.provision_tenant",
    "onboarding.tasks.retry_provisioning",
    "onboarding.tasks.sweep_gateways",
}


def registered_task_names() -> set[str]:
    # what a worker does at start: import the apps' task modules (autodiscovery)
    app.loader.import_default_modules()
    return {name for name in app.tasks if name.startswith("onboarding.")}


def test_the_registered_tasks_keep_their_names():
    assert registered_task_names() == TASK_NAMES


def test_every_beat_entry_names_a_registered_task():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= registered_task_names()


def test_the_outbox_queues_its_send_task_by_that_name(monkeypatch):
    """`.delay` and `send_task` both reach `app.send_task` with the task's name."""
    published = []

    def send_task(name, args=None, kwargs=None, **_options):
        published.append((name, list(args or ())))

    monkeypatch.setattr(app, "send_task", send_task)
    assert outbox.enqueue_send([7, 8])
    assert published == [("onboarding.tasks.send_emails", [[7, 8]])]


@pytest.mark.parametrize("name", sorted(TASK_NAMES))
def test_a_message_that_names_a_task_finds_it(name):
    assert app.tasks[name].name == name
