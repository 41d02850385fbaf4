"""The term calendar the detector's baseline knows: teaching weeks, holidays, exam periods.

`SERVICEPULSE_TERM_CALENDAR` may name a JSON file holding a list of periods,
``[{"start": "2025-09-22T00:00:00+01:00", "end": "2025-12-13T00:00:00+00:00", "kind": "teaching"}, ...]``
(ISO 8601 with offsets; kinds are free text: teaching, reading, exams, holiday, ...). Without it, the periods
stored with `incidents.services.term_calendar_set` are used (the demo stores its own); with none, every day
is ordinary time.
Each kind gets its own learnt level in the baseline, so a quiet holiday does not make term look like an
outage, nor the exam rush on the library look like one.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    kind: str


class TermCalendar:
    """Callable: the kind of period a moment falls in, or "" outside every period."""

    def __init__(self, periods: Iterable[Period]) -> None:
        self.periods = sorted(periods, key=lambda p: p.start)
        self._starts = [p.start for p in self.periods]

    def __call__(self, moment: datetime) -> str:
        index = bisect_right(self._starts, moment) - 1
        if index >= 0 and moment < self.periods[index].end:
            return self.periods[index].kind
        return ""

    @classmethod
    def from_json(cls, path: Path) -> TermCalendar:
        try:
            items = json.loads(path.read_text())
            periods = [
                Period(
                    start=datetime.fromisoformat(item["start"]),
                    end=datetime.fromisoformat(item["end"]),
                    kind=str(item["kind"]),
                )
                for item in items
            ]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ImproperlyConfigured(f"SERVICEPULSE_TERM_CALENDAR {path}: {exc}") from exc
        if any(p.start.tzinfo is None or p.end.tzinfo is None for p in periods):
            raise ImproperlyConfigured(f"SERVICEPULSE_TERM_CALENDAR {path}: times need a UTC offset")
        return cls(periods)


def term_calendar() -> TermCalendar | None:
    """The configured calendar file, else the stored periods, else None."""
    from servicepulse.incidents.models import TermPeriod

    path = settings.SERVICEPULSE_TERM_CALENDAR
    if path:
        return TermCalendar.from_json(Path(path))
    periods = [Period(start=p.start, end=p.end, kind=p.kind) for p in TermPeriod.objects.all()]
    return TermCalendar(periods) if periods else None
