"""The board says when the term calendar runs out, so an admin adds next year's before detection needs it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.incidents.calendar import Period
from servicepulse.incidents.services import term_calendar_set

pytestmark = pytest.mark.django_db


def _text(response: Any) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _calendar_ending(end: Any) -> None:
    term_calendar_set(periods=[Period(end - timedelta(days=70), end, "teaching")])


def test_the_board_says_the_calendar_has_run_out(world: dict[str, Any], clients: dict[str, Client]) -> None:
    _calendar_ending(timezone.now() - timedelta(days=3))
    admin = _text(clients["admin"].get("/"))
    assert "The term calendar ran out on" in admin
    assert "SERVICEPULSE_TERM_CALENDAR" in admin
    assert "An admin adds next year's periods" in _text(clients["viewer"].get("/"))


def test_the_board_warns_a_month_ahead_and_not_before(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    _calendar_ending(timezone.now() + timedelta(days=20))
    assert "The term calendar runs out on" in _text(clients["admin"].get("/"))
    _calendar_ending(timezone.now() + timedelta(days=120))
    assert "term calendar" not in _text(clients["admin"].get("/"))


def test_no_calendar_no_notice(world: dict[str, Any], clients: dict[str, Client]) -> None:
    term_calendar_set(periods=[])
    assert "term calendar" not in _text(clients["admin"].get("/"))
