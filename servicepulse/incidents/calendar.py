"""The term calendar the detector's baseline knows: teaching weeks, holidays, exam periods.

`SERVICEPULSE_TERM_CALENDAR` may name a JSON file holding a list of periods,
``[{"start": "2025-09-22T00:00:00+01:00", "end": "2025-12-13T00:00:00+00:00", "kind": "teaching"}, ...]``
(ISO 8601 with offsets; kinds are free text: teaching, reading, exams, holiday, ...; a period ends just before
its ``end``). Without it, the periods stored with `incidents.services.term_calendar_set` are used (the demo
stores its own); with none, every day is ordinary time. The file is read at each detection run, and checked
when servicepulse starts (`incidents.checks`).
Periods may nest: where they overlap, the shortest wins (a reading week or exams inside a term), so a term
need not be cut in pieces around them.
Each kind gets its own learnt level in the baseline, so a quiet holiday does not make term look like an
outage, nor the exam rush on the library look like one.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

_EXAMPLE = '{"start": "2025-09-22T00:00:00+01:00", "end": "2025-12-13T00:00:00+00:00", "kind": "term"}'


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    kind: str


class TermCalendar:
    """Callable: the kind of period a moment falls in, or "" outside every period. Where periods overlap, the
    shortest holding the moment wins (of equally long ones, the later)."""

    def __init__(self, periods: Iterable[Period]) -> None:
        self.periods = sorted(periods, key=lambda p: p.start)
        # Cut the time line where any period starts or ends; each piece takes the kind of the shortest period
        # covering it. Lookups are then one bisection, however the periods nest.
        given = list(enumerate(self.periods))
        bounds = sorted({p.start for p in self.periods} | {p.end for p in self.periods})
        self._starts: list[datetime] = []
        self._pieces: list[tuple[datetime, str]] = []  # (end, kind) of the piece starting at _starts[i]
        for start, end in pairwise(bounds):
            covering = [(p.end - p.start, -i, p.kind) for i, p in given if p.start <= start and end <= p.end]
            if covering:
                self._starts.append(start)
                self._pieces.append((end, min(covering)[2]))

    @property
    def ends_at(self) -> datetime | None:
        """When the calendar's last period ends: after it every day is ordinary time to the detector."""
        return max((p.end for p in self.periods), default=None)

    def __call__(self, moment: datetime) -> str:
        index = bisect_right(self._starts, moment) - 1
        if index >= 0 and moment < self._pieces[index][0]:
            return self._pieces[index][1]
        return ""

    @classmethod
    def from_json(cls, path: Path) -> TermCalendar:
        """The calendar in a JSON file, or `ImproperlyConfigured` saying what is wrong, where, and how to
        write it."""
        where = f"SERVICEPULSE_TERM_CALENDAR ({path})"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ImproperlyConfigured(f"{where}: the file cannot be read: {reason}.") from exc
        try:
            items = json.loads(text)
        except ValueError as exc:
            detail = (
                f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
                if isinstance(exc, json.JSONDecodeError)
                else str(exc)
            )
            raise ImproperlyConfigured(f"{where}: not valid JSON ({detail}).") from exc
        if not isinstance(items, list):
            raise ImproperlyConfigured(f"{where}: must be a JSON list of periods, like [{_EXAMPLE}].")
        return cls(_period(item, f"{where}, period {number}") for number, item in enumerate(items, start=1))


def _period(item: Any, where: str) -> Period:
    if not isinstance(item, dict):
        raise ImproperlyConfigured(f"{where}: each period is an object like {_EXAMPLE}.")
    missing = [key for key in ("start", "end", "kind") if key not in item]
    if missing:
        names = ", ".join(f'"{key}"' for key in missing)
        raise ImproperlyConfigured(f"{where}: {names} missing; each period is an object like {_EXAMPLE}.")
    kind = item["kind"]
    if not isinstance(kind, str) or not kind.strip():
        raise ImproperlyConfigured(
            f'{where}: "kind" must name the kind of period (term, vacation, exams, ...), not {kind!r}.'
        )
    start, end = _moment(item["start"], f'{where}: "start"'), _moment(item["end"], f'{where}: "end"')
    if end <= start:
        raise ImproperlyConfigured(f'{where}: "end" ({item["end"]}) must be after "start" ({item["start"]}).')
    return Period(start=start, end=end, kind=kind.strip())


def _moment(value: Any, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise ImproperlyConfigured(
            f"{where} is {json.dumps(value)}, not an ISO 8601 time with a UTC offset "
            '(such as "2025-09-22T00:00:00+01:00").'
        )
    if moment.tzinfo is None:
        # Say what it would be in the organisation's time zone: the offset changes with summer time.
        meant = timezone.make_aware(moment, timezone.get_default_timezone())
        raise ImproperlyConfigured(
            f"{where} is {json.dumps(value)}, with no UTC offset: times need one, "
            f'e.g. "{meant.isoformat()}" in {settings.TIME_ZONE}.'
        )
    return moment


# How long before the calendar runs out servicepulse starts saying so (the board, `manage check`).
CALENDAR_NOTICE = timedelta(days=30)


def calendar_runs_out(calendar: TermCalendar | None, *, now: datetime) -> datetime | None:
    """The end of `calendar` when it has ended or ends within CALENDAR_NOTICE of `now`, else None (no calendar,
    or an empty one, runs out of nothing)."""
    end = calendar.ends_at if calendar is not None else None
    return end if end is not None and end - now <= CALENDAR_NOTICE else None


def term_calendar() -> TermCalendar | None:
    """The configured calendar file (an empty list: no calendar), else the stored periods, else None."""
    from servicepulse.incidents.models import TermPeriod

    path = settings.SERVICEPULSE_TERM_CALENDAR
    if path:
        return TermCalendar.from_json(Path(path))
    periods = [Period(start=p.start, end=p.end, kind=p.kind) for p in TermPeriod.objects.all()]
    return TermCalendar(periods) if periods else None
