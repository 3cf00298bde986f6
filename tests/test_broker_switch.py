"""Tests that give a test its own broker (the `broker` fixture) switch this process's Celery to
it and back: publishing afterwards, to a broker used before, must still work."""

from __future__ import annotations

import pytest
import redis

from portal.celery import app
from tests.conftest import point_celery_at

pytestmark = pytest.mark.services


def test_publishing_works_again_after_switching_to_another_broker_and_back(redis_server):
    original = app.conf.broker_url
    app.send_task("onboarding.tasks.sweep_outbox")
    try:
        point_celery_at(redis_server.url)
        app.send_task("onboarding.tasks.sweep_outbox")
    finally:
        point_celery_at(original)

    app.send_task("onboarding.tasks.sweep_outbox")  # raised "Acquire on closed pool"
    assert redis.Redis.from_url(redis_server.url).llen("celery") == 1
