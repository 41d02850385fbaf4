"""A first run for a real organisation (no demo): every empty page says what to do next, and nothing more."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from servicepulse.analysis.services import analysis_save
from servicepulse.catalog.services import catalog_load
from tests.factories import MentionFactory, SourceFactory


def _text(response: Any) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_empty_catalogue_and_sources_pages_name_the_next_step(clients: dict[str, Client]) -> None:
    catalogue = _text(clients["admin"].get("/catalog/"))
    assert "servicepulse catalog load FILE.yaml" in catalogue
    sources = clients["admin"].get("/sources/")
    assert 'href="/sources/add/">Add a source</a>' in sources.content.decode()
    assert "servicepulse import FILE" in _text(sources)
    # A viewer cannot add one, so is not sent to a page that refuses them.
    viewer = clients["viewer"].get("/sources/")
    assert "/sources/add/" not in viewer.content.decode()
    assert "An admin adds them" in _text(viewer)


def test_board_with_services_but_no_sources_says_to_add_one(clients: dict[str, Client]) -> None:
    catalog_load(data={"services": [{"id": "vle", "name": "Moodle VLE"}]})
    board = clients["admin"].get("/")
    assert "No sources yet" in _text(board)
    assert 'href="/sources/add/"' in board.content.decode()
    SourceFactory(name="SU forum", kind="rss")
    assert "No sources yet" not in _text(clients["admin"].get("/"))


def test_empty_board_points_at_catalogue_file_and_sources(clients: dict[str, Client]) -> None:
    board = _text(clients["admin"].get("/"))
    assert "No services in the catalogue yet" in board
    assert "servicepulse catalog load FILE.yaml" in board


def test_never_synced_source_says_when_its_first_sync_comes(clients: dict[str, Client]) -> None:
    source = SourceFactory(name="SU forum", kind="rss", options={"url": "https://forum.example.ac.uk/feed"})
    page = _text(clients["admin"].get(f"/sources/{source.pk}/"))
    assert "never synced" in page
    assert "First sync within a minute" in page


def test_report_on_an_empty_database_neither_blames_analysis_nor_draws_an_empty_table(
    clients: dict[str, Client],
) -> None:
    response = clients["viewer"].get("/experience/report/")
    page = _text(response)
    assert "Posts have not been analysed yet" not in page
    assert "No post has been analysed yet" in page
    assert "No services in the catalogue yet" in page
    assert "Last 0 weeks" not in page
    assert "Experience scores, week" not in page  # the scores table's caption


def test_a_new_service_without_posts_says_so_rather_than_only_0(clients: dict[str, Client]) -> None:
    catalog_load(data={"services": [{"id": "vle", "name": "Moodle VLE"}]})
    for path in ("/", "/services/vle/"):
        page = _text(clients["viewer"].get(path))
        assert "no posts yet" in page
        assert "(only 0)" not in page


def test_status_manage_page_without_components_says_where_they_come_from(clients: dict[str, Client]) -> None:
    assert "No components yet" in _text(clients["responder"].get("/status/manage/"))
    catalog_load(data={"services": [{"id": "vle", "name": "Moodle VLE"}]})
    assert "No components yet" not in _text(clients["responder"].get("/status/manage/"))


def _posts(service_id: str, *, when: datetime, n: int, sentiment: str = "negative") -> None:
    for i in range(n):
        analysis_save(
            mention=MentionFactory(
                text=f"post {i} about {service_id}", created_at=when - timedelta(minutes=i)
            ),
            complaint=sentiment == "negative",
            complaint_score=0.9,
            sentiment=sentiment,
            sentiment_score=0.0,
            spam=False,
            spam_score=0.0,
            services=[(service_id, 0.9)],
        )


def test_service_page_draws_no_score_chart_for_its_first_scored_week(clients: dict[str, Client]) -> None:
    """A new service with its first week of posts: one score, said in words, not one dot on twelve weeks of
    empty axis with a key for a line and band that are not there."""
    catalog_load(data={"services": [{"id": "vle", "name": "Moodle VLE"}]})
    now = timezone.now()
    _posts("vle", when=now - timedelta(hours=1), n=12)
    page = clients["viewer"].get("/services/vle/").content.decode()
    assert "One week with a score so far" in _text(clients["viewer"].get("/services/vle/"))
    assert 'aria-label="Experience score of' not in page
    assert "confidence band" not in page
    # A second week with a score: the chart, from the first of the two weeks, not from twelve weeks back.
    _posts("vle", when=now - timedelta(days=8), n=12, sentiment="positive")
    page = clients["viewer"].get("/services/vle/").content.decode()
    assert 'aria-label="Experience score of Moodle VLE, week by week, over 2 weeks' in page
    assert "confidence band" in page


def test_service_page_without_a_score_says_what_a_score_needs(clients: dict[str, Client]) -> None:
    catalog_load(data={"services": [{"id": "vle", "name": "Moodle VLE"}]})
    _posts("vle", when=timezone.now() - timedelta(hours=1), n=3)
    page = _text(clients["viewer"].get("/services/vle/"))
    assert "needs at least 10 posts" in page
    assert "confidence band" not in page


def test_incidents_page_without_services_does_not_call_it_quiet(clients: dict[str, Client]) -> None:
    """Nothing is watched yet: 'Quiet is good' would be reassurance about nothing, and the form to open an
    incident could only be refused for want of a service."""
    page = clients["admin"].get("/incidents/")
    assert "Quiet is good" not in _text(page)
    assert "nothing to watch yet" in _text(page)
    assert 'href="/catalog/new/"' in page.content.decode()
    assert 'id="open-incident"' not in page.content.decode()
    catalog_load(data={"services": [{"id": "vle", "name": "Moodle VLE"}]})
    page = clients["admin"].get("/incidents/")
    assert "Quiet is good" in _text(page)
    assert 'id="open-incident"' in page.content.decode()
