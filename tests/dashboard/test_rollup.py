"""The board's rollup: finished days stored, live days counted, corrections recounted, as a scan says."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.analysis.services import analysis_save
from servicepulse.dashboard.models import RollupState, ServiceDay
from servicepulse.dashboard.selectors import board_rows, day_counts, weekly_scores
from servicepulse.dashboard.services import count_days, rollup_catch_up, rollup_rebuild
from tests.factories import MentionFactory


def analysed(
    *, text: str, when: Any, complaint: bool, sentiment: str, services: list[str], spam: bool = False
) -> Any:
    mention = MentionFactory(text=text, created_at=when)
    analysis_save(
        mention=mention,
        complaint=complaint,
        complaint_score=0.9,
        sentiment=sentiment,
        sentiment_score=0.0,
        spam=spam,
        spam_score=0.0,
        services=[(s, 0.9) for s in services],
    )
    return mention


@pytest.fixture
def history(world: dict[str, Any]) -> list[Any]:
    """Ten days ago at noon: 12 complaints about the VLE (one spam), 3 praises."""
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=10)
    posts = [
        analysed(text=f"moodle broken {i}", when=noon, complaint=True, sentiment="negative", services=["vle"])
        for i in range(11)
    ]
    posts.append(
        analysed(text="spam", when=noon, complaint=True, sentiment="negative", services=["vle"], spam=True)
    )
    posts += [
        analysed(text=f"moodle great {i}", when=noon, complaint=False, sentiment="positive", services=["vle"])
        for i in range(3)
    ]
    return posts


@pytest.mark.django_db
def test_catch_up_stores_finished_days_once_and_matches_a_scan(history: list[Any]) -> None:
    today = timezone.localdate()
    assert rollup_catch_up() > 0
    assert RollupState.objects.get().complete_until == today - timedelta(days=1)
    assert rollup_catch_up() == 0  # already complete
    day = today - timedelta(days=10)
    row = ServiceDay.objects.get(service_id="vle", day=day)
    assert (row.posts, row.complaints, row.positive, row.negative, row.spam) == (14, 11, 3, 11, 1)
    scan = count_days(start=day, end=day)[("vle", day)]
    assert (scan.posts, scan.complaints, scan.spam) == (row.posts, row.complaints, row.spam)
    merged = day_counts(service_ids=["vle", "wifi"], first=today - timedelta(days=14), last=today)
    assert merged["vle"][day].complaints == 11
    # The world's 30 hours of posts fall on two or three days, depending on the time the test runs.
    assert sum(counts.complaints for counts in merged["wifi"].values()) == 6


@pytest.mark.django_db
def test_board_scores_and_sparkline_use_the_rollup(history: list[Any]) -> None:
    rows = {row.service.id: row for row in board_rows()}
    vle = rows["vle"]
    assert sum(vle.complaints) == 11 + 6  # ten days ago, plus the world's six live complaints
    scores = weekly_scores(service_ids=["vle"], weeks=4, now=timezone.now())["vle"]
    assert len(scores) == 4
    week_before = scores[-2]  # holds the day ten days ago: 3 positive, 11 negative
    assert week_before.n == 14 and round(week_before.value or 0) == round(100 * (3 - 11) / 14)
    assert scores[-1].too_few  # this week: six negative posts only


@pytest.mark.django_db
def test_relabel_of_an_old_post_is_recounted_at_once(history: list[Any], clients: dict[str, Client]) -> None:
    rollup_catch_up()
    day = timezone.localdate() - timedelta(days=10)
    clients["responder"].post(
        "/mentions/relabel/",
        {"mention_ids": [m.pk for m in history[:2]], "field": "complaint", "value": "no"},
    )
    assert ServiceDay.objects.get(service_id="vle", day=day).complaints == 9


@pytest.mark.django_db
def test_periodic_catch_up_recounts_posts_analysed_after_their_day_closed(world: dict[str, Any]) -> None:
    rollup_catch_up()
    yesterday_noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(
        days=1
    )
    analysed(
        text="late moodle complaint",
        when=yesterday_noon,
        complaint=True,
        sentiment="negative",
        services=["vle"],
    )
    before = ServiceDay.objects.filter(service_id="vle", day=yesterday_noon.date()).first()
    assert rollup_catch_up() > 0  # on read: the late post's day is recounted
    after = ServiceDay.objects.get(service_id="vle", day=yesterday_noon.date())
    assert after.complaints == (before.complaints if before else 0) + 1
    rollup_catch_up(recount_days=2)  # the periodic task agrees
    assert ServiceDay.objects.get(service_id="vle", day=yesterday_noon.date()).complaints == after.complaints


@pytest.mark.django_db
def test_rebuild_recounts_everything(history: list[Any]) -> None:
    rollup_catch_up()
    ServiceDay.objects.all().delete()
    assert rollup_rebuild() > 0
    assert ServiceDay.objects.filter(service_id="vle").exists()


@pytest.mark.django_db
def test_posts_analysed_after_their_day_closed_count_at_the_next_read(
    world: dict[str, Any], clients: Any
) -> None:
    """A first week: the board is opened (closing the last 120 days with nothing), then a file of last week's
    posts is imported and analysed. The board and service page count them at once, as the recent posts
    they list do, not after the nightly rebuild."""
    assert "no posts yet" in clients["viewer"].get("/services/printing/").content.decode()
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=5)
    for i in range(10):
        analysed(
            text=f"printer jammed {i}", when=noon, complaint=True, sentiment="negative", services=["printing"]
        )
    analysed(text="printing works", when=noon, complaint=False, sentiment="positive", services=["printing"])
    printing = {row.service.id: row for row in board_rows()}["printing"]
    assert printing.complaints_week == 10
    assert printing.score is not None and printing.score.n == 11
    page = clients["viewer"].get("/services/printing/").content.decode()
    assert "no posts yet" not in page and "11 posts" in page
    day = noon.date()
    assert ServiceDay.objects.get(service_id="printing", day=day).posts == 11
    assert rollup_catch_up() == 0  # nothing new since: nothing recounted
