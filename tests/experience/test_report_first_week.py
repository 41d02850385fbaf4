"""The weekly report in servicepulse's first week: a handful of posts, or none, is said in words rather than
drawn as empty charts that look like measurements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.analysis.services import analysis_save
from servicepulse.experience.periods import IsoWeek
from servicepulse.experience.selectors import report_build
from tests.factories import MentionFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_a_service_without_a_scored_week_says_so_instead_of_a_flat_line(clients: dict[str, Client]) -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    now = timezone.now()
    for i in range(3):
        analysis_save(
            mention=MentionFactory(text=f"moodle down {i}", created_at=now - timedelta(minutes=5 + i)),
            complaint=True,
            complaint_score=0.9,
            sentiment="negative",
            sentiment_score=-0.8,
            spam=False,
            spam_score=0.0,
            services=[("vle", 0.9)],
        )
    report = report_build(week=IsoWeek.containing(now))
    assert "weekly experience score over" not in str(report.services[0].spark)
    assert "no scores yet" in str(report.services[0].spark)
    page = clients["viewer"].get(f"/experience/report/?week={IsoWeek.containing(now).label}").content.decode()
    assert "no scores yet" in page
    assert "Posts per day about IT services" in page  # the week has posts: its daily chart is drawn


def test_a_week_without_posts_draws_no_daily_chart(clients: dict[str, Client]) -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    page = clients["viewer"].get(f"/experience/report/?week={IsoWeek.containing(timezone.now()).label}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "0 posts about IT services" in body
    assert "Posts per day about IT services" not in body
