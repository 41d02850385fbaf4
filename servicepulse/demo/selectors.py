"""Reads about the loaded demo: what was planted where, for benchmarks, tests and the story pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from servicepulse.demo import generator


@dataclass(frozen=True)
class DemoState:
    seed: int
    start: datetime
    end: datetime
    incidents: list[generator.PlantedIncident]
    calendar: list[generator.TermWeek]
    calm_periods: list[tuple[datetime, datetime]]


def demo_state() -> DemoState | None:
    """The planted incidents, term calendar and calm weeks of the demo in the database, or None."""
    from servicepulse.demo.services import demo_anchor

    anchor = demo_anchor()
    if anchor is None:
        return None
    seed, end = anchor
    tz = timezone.get_default_timezone()
    return DemoState(
        seed=seed,
        start=end - generator.SPAN,
        end=end,
        incidents=generator.planted_incidents(end=end, tz=tz),
        calendar=generator.term_calendar(end=end, tz=tz),
        calm_periods=generator.calm_periods(end=end, tz=tz),
    )
