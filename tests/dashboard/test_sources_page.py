"""The sources page says why a source is disabled and offers (and accepts) "Sync now" only on enabled ones."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from tests.factories import SourceFactory


def _row(html: str, name: str) -> str:
    """The table row of the source called `name`."""
    match = re.search(rf"<tr>\s*<td><strong>{re.escape(name)}</strong>.*?</tr>", html, re.S)
    assert match is not None, f"no row for {name}"
    return match.group(0)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def three_sources(db: Any) -> dict[str, Any]:
    """A demo source (as `servicepulse demo` leaves it), a paused real one and a running one, all Reddit."""
    last = timezone.now() - timedelta(minutes=43)
    return {
        "demo": SourceFactory(
            name="r/NorthgateUni (Reddit)",
            kind="reddit",
            enabled=False,
            options={"demo": True, "seed": 1},
            last_success_at=last,
        ),
        "paused": SourceFactory(name="r/paused", kind="reddit", enabled=False, last_success_at=last),
        "running": SourceFactory(name="r/running", kind="reddit", enabled=True, last_success_at=last),
    }


@pytest.mark.django_db
def test_the_page_says_why_a_source_is_disabled_and_offers_sync_only_when_enabled(
    three_sources: dict[str, Any], clients: dict[str, Client]
) -> None:
    html = clients["admin"].get("/sources/").content.decode()
    assert "The demo's sources hold generated posts and are kept disabled" in html

    demo = _text(_row(html, "r/NorthgateUni (Reddit)"))
    assert "disabled demo data" in demo
    # Not "last success 43 minutes ago", as if it had been pulled: the time is the newest generated post's.
    assert "not pulled newest demo post 43 minutes ago" in demo
    assert "Sync now" not in demo and "Resume" not in demo  # resuming would only make it fail

    paused = _text(_row(html, "r/paused"))
    assert "disabled paused: not pulled until resumed" in paused
    assert "43 minutes ago before it was paused" in paused
    assert "Sync now" not in paused and "Resume" in paused

    running = _text(_row(html, "r/running"))
    assert "Sync now" in running and "paused" not in running and "demo" not in running


@pytest.mark.django_db
def test_a_sync_of_a_disabled_source_is_refused_with_a_message(
    three_sources: dict[str, Any], clients: dict[str, Client], django_capture_on_commit_callbacks: Any
) -> None:
    admin = clients["admin"]
    for key, expected in (
        ("demo", "holds the demo's generated posts; there is nothing to sync"),
        ("paused", "is paused; resume it before asking for a sync"),
    ):
        with django_capture_on_commit_callbacks() as queued:
            response = admin.post(f"/sources/{three_sources[key].pk}/sync/")
        assert response.status_code == 302
        assert queued == []  # no sync was enqueued
        message = list(get_messages(response.wsgi_request))[-1]
        assert message.level_tag == "error" and expected in message.message

    with django_capture_on_commit_callbacks() as queued:
        response = admin.post(f"/sources/{three_sources['running'].pk}/sync/")
    assert response.status_code == 302 and len(queued) == 1


@pytest.mark.django_db
def test_a_demo_source_cannot_be_resumed_from_the_page_or_the_command_line(
    three_sources: dict[str, Any], clients: dict[str, Client]
) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    demo = three_sources["demo"]
    response = clients["admin"].post(f"/sources/{demo.pk}/toggle/")
    assert response.status_code == 302
    message = list(get_messages(response.wsgi_request))[-1]
    assert message.level_tag == "error" and "nothing to pull from it; it stays paused" in message.message
    demo.refresh_from_db()
    assert not demo.enabled

    with pytest.raises(CommandError, match="holds the demo's generated posts"):
        call_command("sources", "enable", demo.name)
    with pytest.raises(CommandError, match="nothing to pull from it"):
        call_command("sources", "sync", demo.name)
    demo.refresh_from_db()
    assert not demo.enabled and demo.consecutive_failures == 0  # a refusal is not a failed pull

    # A paused source of one's own still resumes.
    paused = three_sources["paused"]
    clients["admin"].post(f"/sources/{paused.pk}/toggle/")
    paused.refresh_from_db()
    assert paused.enabled
