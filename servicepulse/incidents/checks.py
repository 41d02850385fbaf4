"""System checks (`servicepulse manage check`, and every command that starts the site): the term calendar file
is read when servicepulse starts, so a mistake in it stops start-up with its reason instead of failing every
detection run in the worker's log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from servicepulse.incidents.calendar import TermCalendar


@checks.register(checks.Tags.compatibility)
def term_calendar_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    path = getattr(settings, "SERVICEPULSE_TERM_CALENDAR", "")
    if not path:
        return []
    try:
        TermCalendar.from_json(Path(path))
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                str(exc),
                hint="Correct the file (docs/detection.md, Tuning), or unset SERVICEPULSE_TERM_CALENDAR to use "
                "the calendar stored in the database.",
                id="servicepulse.E001",
            )
        ]
    return []
