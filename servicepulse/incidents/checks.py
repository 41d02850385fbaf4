"""System checks (`servicepulse manage check`, and every command that starts the site): the term calendar file
is read when servicepulse starts, so a mistake in it stops start-up with its reason instead of failing every
detection run in the worker's log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from servicepulse.incidents.calendar import TermCalendar, calendar_runs_out


@checks.register(checks.Tags.compatibility)
def term_calendar_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    path = getattr(settings, "SERVICEPULSE_TERM_CALENDAR", "")
    if not path:
        return []
    try:
        calendar = TermCalendar.from_json(Path(path))
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                str(exc),
                hint="Correct the file (docs/detection.md, Tuning), or unset SERVICEPULSE_TERM_CALENDAR to use "
                "the calendar stored in the database.",
                id="servicepulse.E001",
            )
        ]
    ends = calendar_runs_out(calendar, now=timezone.now())
    if ends is not None:
        when = "ran out" if ends <= timezone.now() else "runs out"
        return [
            checks.Warning(
                f"SERVICEPULSE_TERM_CALENDAR ({path}): the term calendar {when} on "
                f"{timezone.localtime(ends):%d %B %Y}; after its last period detection treats every day as "
                "ordinary time, so the first weeks of a new term can look like an outage.",
                hint="Add next year's periods to the file (docs/detection.md, Term calendar).",
                id="servicepulse.W003",
            )
        ]
    return []
