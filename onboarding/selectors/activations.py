"""How fast tenants become ready: the median time from enable to the gateway having the token
over recent windows, and how many tenants became ready each week. Both come from the audit
trail (an event for every invitation and for the gateway getting a token), so history survives
later changes to the tenant row. Each figure is one query, whatever the number of tenants.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import Aggregate, Count, DurationField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncWeek
from django.utils import timezone

from onboarding.models import AuditAction, AuditEvent
from onboarding.selectors.dashboard_chart import WeeklyChart, weekly_chart

# The windows the median time to ready is taken over, in days.
MEDIAN_WINDOWS_DAYS = (30, 90)
# Weeks the "ready per week" chart covers, the current week included.
CHART_WEEKS = 12
# Audit actions: a tenant is invited to upload (enabled, or its token revoked) and is ready when
# its gateway has the token that made it active ("time to ready"; a replacement token does not
# count). Activations from before the portal tracked the gateway got this event in migration 0007.
INVITED_ACTIONS = (AuditAction.ENABLED, AuditAction.TOKEN_REVOKED)
READY = Q(action=AuditAction.GATEWAY_HAS_TOKEN, detail__replacement=False)


@dataclass(frozen=True)
class MedianFigure:
    days: int
    median: timedelta | None
    activations: int


# Enable to active ------------------------------------------------------------------------------


class Median(Aggregate):
    """PostgreSQL's exact median: percentile_cont(0.5), the mean of the two middle values when
    their number is even. Other databases have no such aggregate; see `medians_in_python`."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    # django-stubs gives Aggregate.as_sql Func's signature; Django's own takes only compiler,
    # connection and **extra_context, as this one does
    def as_sql(self, compiler: Any, db: Any, **extra_context: Any) -> tuple[str, Any]:  # type: ignore[override]
        if db.vendor != "postgresql":
            raise NotSupportedError("Median needs PostgreSQL's percentile_cont.")
        return super().as_sql(compiler, db, **extra_context)


def activation_durations(*, now: datetime) -> QuerySet:
    """Every activation in the longest window, with `took`: the time from the latest invitation
    (enabled, or token revoked) before it. Activations with no invitation before them (data
    from before the audit trail) have no `took` and are left out."""
    invited_at = (
        AuditEvent.objects.filter(
            tenant_id=OuterRef("tenant_id"),
            action__in=INVITED_ACTIONS,
            created_at__lte=OuterRef("created_at"),
        )
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    return (
        AuditEvent.objects.filter(
            READY,
            created_at__gt=now - timedelta(days=max(MEDIAN_WINDOWS_DAYS)),
            created_at__lte=now,
        )
        .annotate(invited_at=Subquery(invited_at))
        .annotate(took=F("created_at") - F("invited_at"))
        .filter(invited_at__isnull=False)
    )


def medians_in_database(*, now: datetime) -> list[MedianFigure]:
    aggregates: dict[str, Aggregate] = {}
    for days in MEDIAN_WINDOWS_DAYS:
        in_window = Q(created_at__gt=now - timedelta(days=days))
        aggregates[f"median_{days}"] = Median(
            "took", filter=in_window, output_field=DurationField()
        )
        aggregates[f"count_{days}"] = Count("id", filter=in_window)
    figures = activation_durations(now=now).aggregate(**aggregates)
    return [
        MedianFigure(days, figures[f"median_{days}"], figures[f"count_{days}"])
        for days in MEDIAN_WINDOWS_DAYS
    ]


def medians_in_python(*, now: datetime) -> list[MedianFigure]:
    """The same figures where the database has no percentile_cont (SQLite for `make run`): the
    durations come from the database in one query and the median is taken here."""
    rows = list(activation_durations(now=now).values_list("created_at", "took"))
    figures = []
    for days in MEDIAN_WINDOWS_DAYS:
        start = now - timedelta(days=days)
        took = [duration for at, duration in rows if at > start]
        figures.append(MedianFigure(days, statistics.median(took) if took else None, len(took)))
    return figures


def enable_to_active_medians(*, now: datetime) -> list[MedianFigure]:
    if connection.vendor == "postgresql":
        return medians_in_database(now=now)
    return medians_in_python(now=now)


# Tenants reaching active per week --------------------------------------------------------------


def week_start(moment: datetime) -> date:
    local = timezone.localtime(moment).date()
    return local - timedelta(days=local.weekday())


def activations_chart(*, now: datetime) -> WeeklyChart:
    weeks = [week_start(now) - timedelta(weeks=n) for n in range(CHART_WEEKS - 1, -1, -1)]
    first = timezone.make_aware(datetime.combine(weeks[0], datetime.min.time()))
    rows = (
        AuditEvent.objects.filter(READY, created_at__gte=first, created_at__lte=now)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(tenants=Count("tenant_id", distinct=True))
        .order_by("week")
    )
    counts = {_as_date(row["week"]): row["tenants"] for row in rows}
    return weekly_chart(weeks=weeks, counts=counts)


def _as_date(value: datetime | date) -> date:
    return timezone.localtime(value).date() if isinstance(value, datetime) else value
