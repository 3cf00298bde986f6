"""Liveness of the scheduler and the periodic jobs, for /healthz and the staff dashboard.

A periodic job's heartbeat is written by the worker that ran it, so a fresh beat says both that
the scheduler sent the job and that a worker picked it up. The scheduler itself beats only as it
starts (`portal/celery.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from onboarding.models import Heartbeat

# The name the scheduler's start-up beat is recorded under.
SCHEDULER_BEAT = "scheduler"
# heartbeat name -> its entry in settings.CELERY_BEAT_SCHEDULE, which says how often it runs.
# A job added to the schedule and to tasks.py belongs here too, or the dashboard cannot judge it.
PERIODIC_JOBS = {
    "outbox_sweeper": "outbox-sweeper",
    "dns_sweeper": "dns-sweeper",
    "reminders": "reminders",
    "token_destroyer": "token-destroyer",
    "contact_eraser": "contact-eraser",
    "provisioning_retries": "provisioning-retries",
    "gateway_sweeper": "gateway-sweeper",
}


# A job's state on the dashboard. "Waiting" is a job that has not run since the scheduler
# started and is not yet late for it: beat sends an interval job first one interval after it
# starts, so the hourly jobs would otherwise show a red "stale" for the first hour of every run.
JOB_OK = "ok"
JOB_WAITING = "waiting for its first run"
JOB_STALE = "stale"


@dataclass(frozen=True)
class JobLiveness:
    """One job's last beat and the verdict on it, as the dashboard shows it."""

    name: str
    beat_at: datetime | None
    age: timedelta | None
    # how often the scheduler runs it; None for the scheduler's own start beat or an unknown job
    every: timedelta | None
    stale: bool | None  # None: nothing to judge against (start beat, job with no schedule)
    state: str | None = None  # JOB_OK, JOB_WAITING or JOB_STALE; None as for `stale`


def heartbeat_record(name: str, *, now: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": now or timezone.now()})


def _newest_is_fresh(newest: datetime | None, now: datetime) -> bool:
    return newest is not None and now - newest <= settings.SCHEDULER_HEARTBEAT_MAX_AGE


def scheduler_alive(*, now: datetime | None = None) -> bool:
    """The scheduler is alive while some periodic job (or its own start) beat recently."""
    newest = Heartbeat.objects.aggregate(newest=Max("beat_at"))["newest"]
    return _newest_is_fresh(newest, now or timezone.now())


def job_interval(name: str) -> timedelta | None:
    entry = settings.CELERY_BEAT_SCHEDULE.get(PERIODIC_JOBS.get(name, ""), {})
    schedule = entry.get("schedule")
    if isinstance(schedule, int | float):
        return timedelta(seconds=schedule)
    if isinstance(schedule, timedelta):
        return schedule
    return None


def job_stale(
    *,
    beat_at: datetime | None,
    every: timedelta,
    now: datetime,
    scheduler_started_at: datetime | None = None,
) -> bool:
    """A job is stale when it missed its run: neither its last beat nor the scheduler's start
    (whichever is later) lies within its interval plus the scheduler's allowance
    (SCHEDULER_HEARTBEAT_MAX_AGE), which absorbs a slow run or a queue."""
    since = max((t for t in (beat_at, scheduler_started_at) if t is not None), default=None)
    return since is None or now - since > every + settings.SCHEDULER_HEARTBEAT_MAX_AGE


def job_state(
    *,
    beat_at: datetime | None,
    every: timedelta,
    now: datetime,
    scheduler_started_at: datetime | None,
) -> str:
    """ok, waiting for its first run (none since the scheduler started, and not late yet; or
    no scheduler has started at all, which the scheduler's own line reports), or stale."""
    if beat_at is None and scheduler_started_at is None:
        return JOB_WAITING
    if job_stale(beat_at=beat_at, every=every, now=now, scheduler_started_at=scheduler_started_at):
        return JOB_STALE
    not_run_since_start = beat_at is None or (
        scheduler_started_at is not None and beat_at < scheduler_started_at
    )
    return JOB_WAITING if not_run_since_start else JOB_OK


@dataclass(frozen=True)
class Liveness:
    scheduler_alive: bool
    newest_beat_at: datetime | None
    jobs: list[JobLiveness]
    # how late past its interval a job may beat before it counts as stale
    allowance: timedelta


def liveness_report(*, now: datetime | None = None) -> Liveness:
    """Every known job (beaten or not) and any other recorded beat, in one query."""
    now = now or timezone.now()
    beats = dict(Heartbeat.objects.values_list("name", "beat_at"))
    names = [
        SCHEDULER_BEAT,
        *PERIODIC_JOBS,
        *sorted(set(beats) - set(PERIODIC_JOBS) - {SCHEDULER_BEAT}),
    ]
    started_at = beats.get(SCHEDULER_BEAT)
    jobs = []
    for name in names:
        every = job_interval(name)
        beat_at = beats.get(name)
        state = (
            None
            if every is None
            else job_state(beat_at=beat_at, every=every, now=now, scheduler_started_at=started_at)
        )
        age = None if beat_at is None else now - beat_at
        jobs.append(
            JobLiveness(
                name=name,
                beat_at=beat_at,
                age=age,
                every=every,
                stale=None if state is None else state == JOB_STALE,
                state=state,
            )
        )
    newest = max(beats.values(), default=None)
    return Liveness(
        scheduler_alive=_newest_is_fresh(newest, now),
        newest_beat_at=newest,
        jobs=jobs,
        allowance=settings.SCHEDULER_HEARTBEAT_MAX_AGE,
    )
