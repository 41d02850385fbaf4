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


def demo_published_logins() -> list[tuple[str, str, str]]:
    """The demo's accounts that are active and still sign in with the password the demo publishes (README,
    `run`'s banner), as (username, password, role): what `run` may announce, and what must not be served
    beyond this machine."""
    from django.contrib.auth import get_user_model

    from servicepulse.demo.services import DEMO_USERS

    users = {
        user.get_username(): user
        for user in get_user_model().objects.filter(
            username__in=[name for name, _, _ in DEMO_USERS], is_active=True
        )
    }
    return [
        (name, password, role.label)
        for name, password, role in DEMO_USERS
        if name in users and users[name].check_password(password)
    ]
