"""The weekly reports list offers only weeks servicepulse can say something about: from the first week with a
post or a service on, none on an empty database (and it says why)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.experience.periods import IsoWeek
from tests.factories import MentionFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def _weeks(response: Any) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'href="/experience/report/\?week=([0-9]{4}-W[0-9]{2})"', response.content.decode())


def test_an_empty_database_lists_no_week_and_says_why(clients: dict[str, Client]) -> None:
    response = clients["viewer"].get("/experience/")
    assert _weeks(response) == []
    assert "No reports yet" in response.content.decode()


def test_a_service_added_today_lists_only_this_week(clients: dict[str, Client]) -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    assert _weeks(clients["viewer"].get("/experience/")) == [IsoWeek.containing(timezone.now()).label]


def test_weeks_start_at_the_first_post_even_before_the_catalogue(clients: dict[str, Client]) -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    now = timezone.now()
    MentionFactory(created_at=now - timedelta(weeks=3))  # an import of older posts
    current = IsoWeek.containing(now)
    response = clients["viewer"].get("/experience/")
    assert _weeks(response) == [current.previous(i).label for i in range(4)]
    assert "No reports yet" not in response.content.decode()
    MentionFactory(created_at=now - timedelta(weeks=52))  # a year of history: the list keeps to 12 weeks
    assert _weeks(clients["viewer"].get("/experience/")) == [current.previous(i).label for i in range(12)]
