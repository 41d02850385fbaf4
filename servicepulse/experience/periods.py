"""ISO weeks in the organisation's time zone: what the weekly report is about (`2026-W47`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

_WEEK_RE = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


FIRST_YEAR, LAST_YEAR = 1970, 9000


class WeekError(ValueError):
    """Not an ISO week like 2026-W47."""


@dataclass(frozen=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        match = _WEEK_RE.match(text or "")
        if not match:
            raise WeekError(f"{text!r} is not an ISO week like 2026-W47")
        year, week = int(match.group(1)), int(match.group(2))
        if not FIRST_YEAR <= year <= LAST_YEAR:  # the report also reads the weeks around it
            raise WeekError(f"{text.strip()!r}: the year must be between {FIRST_YEAR} and {LAST_YEAR}")
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise WeekError(f"{year} has no week {week}") from None
        return cls(year, week)

    @classmethod
    def containing(cls, moment: datetime) -> IsoWeek:
        iso = timezone.localtime(moment).isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def last_complete(cls, now: datetime | None = None) -> IsoWeek:
        return cls.containing(now or timezone.now()).previous()

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.monday, time(0, 0)), timezone.get_default_timezone())

    @property
    def end(self) -> datetime:
        following = self.monday + timedelta(days=7)
        return timezone.make_aware(datetime.combine(following, time(0, 0)), timezone.get_default_timezone())

    @property
    def title(self) -> str:
        sunday = self.monday + timedelta(days=6)
        start = f"{self.monday:%-d %b}" if self.monday.year == sunday.year else f"{self.monday:%-d %b %Y}"
        return f"{start} to {sunday:%-d %b %Y}"

    def previous(self, weeks: int = 1) -> IsoWeek:
        iso = (self.monday - timedelta(weeks=weeks)).isocalendar()
        return IsoWeek(iso.year, iso.week)

    def next(self) -> IsoWeek:
        iso = (self.monday + timedelta(weeks=1)).isocalendar()
        return IsoWeek(iso.year, iso.week)

    def days(self) -> list[datetime]:
        tz = timezone.get_default_timezone()
        return [
            timezone.make_aware(datetime.combine(self.monday + timedelta(days=i), time(0, 0)), tz)
            for i in range(8)
        ]

    def __str__(self) -> str:
        return self.label


def weeks_since(*, first: datetime | None, now: datetime, limit: int) -> list[IsoWeek]:
    """The weeks from the one containing `now` back to the one containing `first` (newest first, at most
    `limit`): the weeks a report can say something about. None when there is no `first` (nothing yet)."""
    if first is None:
        return []
    oldest = IsoWeek.containing(min(first, now))
    week = IsoWeek.containing(now)
    weeks: list[IsoWeek] = []
    while len(weeks) < limit and week.monday >= oldest.monday:
        weeks.append(week)
        week = week.previous()
    return weeks
