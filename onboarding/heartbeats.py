"""Liveness of the scheduler and the periodic jobs, for /healthz and the staff dashboard."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from onboarding.models import Heartbeat


def heartbeat_record(name: str, *, now: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": now or timezone.now()})


def scheduler_alive(*, now: datetime | None = None) -> bool:
    """The scheduler is alive while some periodic job (or its own start) beat recently."""
    newest = Heartbeat.objects.aggregate(newest=Max("beat_at"))["newest"]
    if newest is None:
        return False
    return (now or timezone.now()) - newest <= settings.SCHEDULER_HEARTBEAT_MAX_AGE
