"""The sources page says why a source is disabled and offers (and accepts) "Sync now" only on enabled ones."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from servicepulse.sources.models import Source
from tests.factories import SourceFactory


def _row(html: str, name: str) -> str:
    """The table row of the source called `name`."""
    match = re.search(
        rf"<tr>\s*<td><strong>(?:<a [^>]*>)?{re.escape(name)}(?:</a>)?</strong>.*?</tr>", html, re.S
    )
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


@pytest.fixture
def busy_source(db: Any) -> Any:
    """An enabled source with three posts, one of them an inbox case, and two quarantined rows."""
    from servicepulse.engage.models import Case
    from servicepulse.mentions.models import Quarantine
    from tests.factories import MentionFactory

    source = SourceFactory(name="Facebook page", kind="facebook", enabled=True)
    posts = [MentionFactory(source=source) for _ in range(3)]
    Case.objects.create(mention=posts[0], opened_at=posts[0].created_at)
    for n in range(2):
        Quarantine.objects.create(source=source, raw=f"bad {n}", reason="not JSON", fingerprint=f"f{n}")
    return source


@pytest.mark.django_db
def test_remove_asks_first_saying_what_goes_and_that_pausing_keeps_it(
    busy_source: Any, clients: dict[str, Client]
) -> None:
    from servicepulse.mentions.models import Mention

    admin = clients["admin"]
    listing = admin.get("/sources/").content.decode()
    row = _row(listing, "Facebook page")
    # The list's Remove opens the confirmation (a GET form); it no longer removes in one click.
    assert f'<form method="get" action="/sources/{busy_source.pk}/remove/">' in row

    page = admin.get(f"/sources/{busy_source.pk}/remove/")
    assert page.status_code == 200
    text = _text(page.content.decode())
    assert "Remove Facebook page?" in text
    assert "3 posts" in text and "2 quarantined rows" in text and "1 inbox case" in text
    assert "Pausing keeps them" in text and "Pause Facebook page instead" in text
    assert Mention.objects.filter(source=busy_source).count() == 3  # looking removed nothing

    removed = admin.post(f"/sources/{busy_source.pk}/remove/")
    assert removed.status_code == 302 and removed["Location"] == "/sources/"
    message = list(get_messages(removed.wsgi_request))[-1]
    assert message.message == "Removed source Facebook page and its 3 posts."
    assert not Source.objects.filter(pk=busy_source.pk).exists()
    assert not Mention.objects.filter(source_id=busy_source.pk).exists()


@pytest.mark.django_db
def test_pausing_from_the_confirmation_keeps_the_posts(busy_source: Any, clients: dict[str, Client]) -> None:
    from servicepulse.mentions.models import Mention

    html = clients["admin"].get(f"/sources/{busy_source.pk}/remove/").content.decode()
    assert f'action="/sources/{busy_source.pk}/toggle/"' in html
    clients["admin"].post(f"/sources/{busy_source.pk}/toggle/")
    busy_source.refresh_from_db()
    assert not busy_source.enabled and Mention.objects.filter(source=busy_source).count() == 3


@pytest.mark.django_db
def test_only_admins_see_or_use_the_removal(busy_source: Any, clients: dict[str, Client]) -> None:
    for role in ("viewer", "responder"):
        assert clients[role].get(f"/sources/{busy_source.pk}/remove/").status_code == 403
        assert clients[role].post(f"/sources/{busy_source.pk}/remove/").status_code == 403
    assert Source.objects.filter(pk=busy_source.pk).exists()


@pytest.mark.django_db
def test_the_command_asks_like_erase_author_and_needs_yes_without_a_terminal(
    busy_source: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # what `< /dev/null` gives input()
    with pytest.raises(
        CommandError, match=r"^nothing removed: no answer to confirm with; pass --yes to remove$"
    ):
        call_command("sources", "remove", "Facebook page")
    prompt = capsys.readouterr().out
    assert "3 posts, 2 quarantined rows, 1 inbox case" in prompt
    assert "`servicepulse sources disable 'Facebook page'` keeps them" in prompt

    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    with pytest.raises(CommandError, match=r"^nothing removed$"):
        call_command("sources", "remove", "Facebook page")
    assert Source.objects.filter(pk=busy_source.pk).exists()

    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    call_command("sources", "remove", "Facebook page")
    assert "removed source 'Facebook page' and its 3 mention(s)" in capsys.readouterr().out
    assert not Source.objects.filter(pk=busy_source.pk).exists()


@pytest.mark.django_db
def test_the_command_removes_at_once_with_yes(busy_source: Any, capsys: Any) -> None:
    from django.core.management import call_command

    call_command("sources", "remove", "Facebook page", yes=True)
    assert not Source.objects.filter(pk=busy_source.pk).exists()
