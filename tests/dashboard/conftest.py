"""Fixtures for the signed-in pages: a small demo-like world (services, sources, analysed posts), clients."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from servicepulse.analysis.services import analysis_save
from servicepulse.catalog.services import catalog_load
from servicepulse.dashboard.management.commands.screenshots import CHROMIUM_ARGS
from servicepulse.demo.catalog import DEMO_CATALOG
from tests.dashboard.browser import CHROMIUM
from tests.factories import MentionFactory, SourceFactory

# (text, complaint, sentiment, spam, services with confidence): what the analysis app would conclude.
POSTS: list[tuple[str, bool, str, bool, list[tuple[str, float]]]] = [
    ("moodle is down again and my essay is due at midnight", True, "negative", False, [("vle", 0.93)]),
    ("eduroam keeps dropping in the library", True, "negative", False, [("wifi", 0.9), ("library", 0.4)]),
    (
        "thanks to the service desk for sorting my password so quickly",
        False,
        "positive",
        False,
        [("service-desk", 0.8)],
    ),
    ("outlook won't load my inbox", True, "negative", False, [("student-email", 0.88)]),
    ("BUY CHEAP FOLLOWERS NOW", False, "neutral", True, []),
]
SENTIMENT_SCORE = {"negative": -0.8, "neutral": 0.0, "positive": 0.8}


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """The pages keep live counts and themes in the cache for a minute; each test starts without them."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    """The demo catalogue, two sources and 30 hours of analysed posts (6 of each kind in POSTS)."""
    services = catalog_load(data=DEMO_CATALOG)
    reddit = SourceFactory(name="r/northgate", kind="reddit")
    widget = SourceFactory(name="widget", kind="widget")
    now = timezone.now()
    mentions = []
    for i in range(30):
        text, complaint, sentiment, spam, tags = POSTS[i % len(POSTS)]
        mention = MentionFactory(
            source=reddit if i % 2 else widget, text=text, created_at=now - timedelta(hours=i)
        )
        analysis_save(
            mention=mention,
            complaint=complaint,
            complaint_score=0.9 if complaint else 0.1,
            sentiment=sentiment,
            sentiment_score=SENTIMENT_SCORE[sentiment],
            spam=spam,
            spam_score=0.95 if spam else 0.02,
            services=tags,
            language="en",
        )
        mentions.append(mention)
    return {"services": services, "sources": [reddit, widget], "mentions": mentions}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls of fixtures stay synchronous.
    # Set for this module only: a subprocess started by another test must not inherit it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
