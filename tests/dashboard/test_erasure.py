"""Erasing a person (`servicepulse erase-author`) takes their words off the service page at once, though the
page keeps its complaint themes (with example posts) ten minutes; an erasure that fails forgets nothing."""

from __future__ import annotations

import html as htmllib
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from servicepulse.dashboard.selectors import LIVE_GENERATION_KEY
from servicepulse.mentions.services import mentions_erase_author


@pytest.mark.django_db
def test_an_erased_persons_posts_leave_the_service_pages_themes_at_once(
    world: dict[str, Any], clients: dict[str, Client], django_capture_on_commit_callbacks: Any
) -> None:
    viewer = clients["viewer"]
    page = htmllib.unescape(viewer.get("/services/vle/").content.decode())
    assert '<blockquote dir="ltr">moodle is down again and my essay is due at midnight</blockquote>' in page

    with django_capture_on_commit_callbacks(execute=True):
        for author in {m.author for m in world["mentions"] if m.text.startswith("moodle")}:
            mentions_erase_author(author=author)

    # The themes were kept ten minutes after the erasure: the erased person's words were still quoted.
    page = htmllib.unescape(viewer.get("/services/vle/").content.decode())
    assert "moodle is down again" not in page
    assert "No complaint themes this week." in page


@pytest.mark.django_db
def test_an_erasure_rolled_back_forgets_nothing_and_the_rest_of_the_cache_is_kept(
    world: dict[str, Any], clients: dict[str, Client], django_capture_on_commit_callbacks: Any
) -> None:
    clients["viewer"].get("/services/vle/")
    cache.set("not-the-dashboards", "kept", None)
    generation = cache.get(LIVE_GENERATION_KEY, 0)
    author = world["mentions"][0].author

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        mentions_erase_author(author=author)
        raise RuntimeError("the erasure failed")
    assert cache.get(LIVE_GENERATION_KEY, 0) == generation and not callbacks

    with django_capture_on_commit_callbacks(execute=True):
        mentions_erase_author(author=author)
    assert cache.get(LIVE_GENERATION_KEY, 0) == generation + 1
    assert cache.get("not-the-dashboards") == "kept"
