"""Small formatting filters for the report: durations and signed scores."""

from __future__ import annotations

from datetime import timedelta

from django import template

from servicepulse.experience import charts

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """3 h 05 min, 12 min, 2 d 4 h; a negative duration reads "-12 min"; None reads "—"."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    return f"{sign}{minutes} min"


@register.filter
def signed(value: float | None) -> str:
    """A score with its sign, as the report's charts print it ("0" without one); None reads "—"."""
    return "—" if value is None else charts.signed(value)


@register.filter
def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


@register.filter
def trend_arrow(value: str) -> str:
    return {"up": "▲", "down": "▼"}.get(value, "")
