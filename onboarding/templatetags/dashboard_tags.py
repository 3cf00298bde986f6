"""Template filters for the staff dashboard."""

from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@register.filter
def duration(value: timedelta | None) -> str:
    """A duration in the two largest units that matter: "2 days 4 h", "3 h 20 min", "45 s"."""
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return _plural(days, "day") + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"
