"""A small bar chart drawn server-side: the geometry of an SVG the template writes out.

No JavaScript and nothing fetched from elsewhere; the template gives the SVG a title and a
description, and prints the same numbers as a table for screen readers and for copying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The drawing's own coordinate system (viewBox); CSS scales it to the page width.
WIDTH = 640
HEIGHT = 200
# room for the count above a bar and the week's label below the baseline
TOP_MARGIN = 20
BOTTOM_MARGIN = 24
# share of a week's slot the bar takes; the rest is the gap between bars
BAR_SHARE = 0.7


@dataclass(frozen=True)
class Bar:
    week: date
    count: int
    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> float:
        return self.x + self.width / 2

    @property
    def count_y(self) -> float:
        return self.y - 4

    @property
    def label(self) -> str:
        return f"{self.week:%d %b}"


@dataclass(frozen=True)
class WeeklyChart:
    bars: list[Bar]
    width: int
    height: int
    baseline: float
    total: int
    highest: int

    @property
    def first_week(self) -> date:
        return self.bars[0].week

    @property
    def last_week(self) -> date:
        return self.bars[-1].week

    @property
    def label_y(self) -> float:
        return self.baseline + 16


def weekly_chart(*, weeks: list[date], counts: dict[date, int]) -> WeeklyChart:
    """One bar per week (missing weeks count 0), scaled so the highest fills the height."""
    values = [counts.get(week, 0) for week in weeks]
    highest = max(values, default=0)
    baseline = HEIGHT - BOTTOM_MARGIN
    drawable = baseline - TOP_MARGIN
    slot = WIDTH / max(len(weeks), 1)
    bars = []
    for index, (week, count) in enumerate(zip(weeks, values, strict=True)):
        height = drawable * count / highest if highest else 0
        bar_width = slot * BAR_SHARE
        bars.append(
            Bar(
                week=week,
                count=count,
                x=round(index * slot + (slot - bar_width) / 2, 1),
                y=round(baseline - height, 1),
                width=round(bar_width, 1),
                height=round(height, 1),
            )
        )
    return WeeklyChart(
        bars=bars,
        width=WIDTH,
        height=HEIGHT,
        baseline=baseline,
        total=sum(values),
        highest=highest,
    )
