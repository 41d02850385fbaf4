"""The RSS/Atom connector: feedparser reading fixtures served from a loopback replay server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.registry import ConnectorError
from servicepulse.sources.services import SourceConfigError, source_create, source_sync
from tests.replay import ReplayServer, Reply

FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/rss/fixtures"
pytestmark = pytest.mark.django_db


def feed(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rss_source(url: str, name: str = "su-news") -> Any:
    return source_create(kind="rss", name=name, options={"url": url})


@pytest.mark.parametrize(
    ("fixture", "content_type", "expected"),
    [
        ("rss20.xml", "application/rss+xml", 3),
        ("rss091.xml", "text/xml; charset=ISO-8859-1", 2),
        ("rss10.rdf", "application/rdf+xml", 2),
        ("atom.xml", "application/atom+xml", 2),
    ],
)
def test_each_format(fixture: str, content_type: str, expected: int) -> None:
    with ReplayServer(
        {("GET", "/feed"): [Reply(200, {"Content-Type": content_type}, feed(fixture))]}
    ) as server:
        source = rss_source(server.url + "/feed")
        result = source_sync(source=source)
    assert (result.created, result.quarantined) == (expected, 0)
    assert Mention.objects.filter(source=source).count() == expected
    for mention in Mention.objects.filter(source=source):
        assert mention.text.strip() and mention.created_at.tzinfo is not None


def test_entry_fields() -> None:
    with ReplayServer({("GET", "/feed"): [Reply(200, body=feed("rss20.xml"))]}) as server:
        source = rss_source(server.url + "/feed")
        source_sync(source=source)
    moodle = Mention.objects.get(source=source, external_id="su-it-2026-11-25-001")
    assert moodle.text.startswith("Moodle down again before the deadline?")
    assert "<b>" not in moodle.text and "Moodle times out" in moodle.text.replace("\n", " ")
    assert moodle.author == "Priya (SU IT rep)"
    assert moodle.url == "https://su.northfield.example/it/moodle-down-again"
    assert moodle.created_at.isoformat() == "2026-11-25T17:45:00+00:00"
    thanks = Mention.objects.get(source=source, external_id="su-it-2026-11-23-004")
    assert thanks.created_at.isoformat() == "2026-11-23T13:00:00+00:00"  # +0100 normalised


def test_malformed_entry_markup_is_read_in_linear_time() -> None:
    """feedparser's sanitiser (sgmllib) takes time quadratic in malformed markup: an entry whose description
    is "<!--" repeated 60,000 times (240 kB of a feed; 10 MB are fetched) kept the sync busy for 12 s, and a
    whole feed of it for hours. Its HTML passes are off: the entry's text comes through nh3."""
    import html
    import time

    junk = html.escape("<p>Wi-Fi <b>down</b> in the library <script>alert(1)</script></p>" + "<!--" * 60_000)
    document = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title><item><guid>slow-1</guid>'
        f"<title>Wi-Fi</title><link>/news/1</link><description>{junk}</description></item></channel></rss>"
    )
    with ReplayServer(
        {("GET", "/feed"): [Reply(200, {"Content-Type": "application/rss+xml"}, document)]}
    ) as server:
        source = rss_source(server.url + "/feed")
        started = time.perf_counter()
        result = source_sync(source=source)
        elapsed = time.perf_counter() - started
    assert result.created == 1 and elapsed < 3
    mention = Mention.objects.get(source=source)
    assert mention.text == "Wi-Fi down in the library"  # no markup, no script, the comments gone
    assert mention.url == server.url + "/news/1"


def test_conditional_get_and_idempotence() -> None:
    def conditional(request: Any) -> Reply:
        if request.headers.get("If-None-Match") == '"abc"':
            return Reply(304, {"ETag": '"abc"'})
        headers = {"ETag": '"abc"', "Last-Modified": "Wed, 25 Nov 2026 18:05:00 GMT"}
        return Reply(200, headers, feed("rss20.xml"))

    with ReplayServer({("GET", "/feed"): [Reply(200, body=feed("rss20.xml")), conditional]}) as server:
        source = rss_source(server.url + "/feed")
        first = source_sync(source=source)  # no validators: a plain 200
        second = source_sync(source=source)  # the same entries again: all duplicates; validators stored
        third = source_sync(source=source)  # conditional: 304
    assert (first.created, second.created, second.duplicates) == (3, 0, 3)
    assert (third.created, third.duplicates) == (0, 0)
    assert server.requests[2].headers["If-None-Match"] == '"abc"'
    assert server.requests[2].headers["If-Modified-Since"] == "Wed, 25 Nov 2026 18:05:00 GMT"
    source.refresh_from_db()
    assert source.cursor == {"etag": '"abc"', "last_modified": "Wed, 25 Nov 2026 18:05:00 GMT"}
    assert Mention.objects.filter(source=source).count() == 3


def test_bad_entry_quarantined_rest_kept() -> None:
    with ReplayServer({("GET", "/feed"): [Reply(200, body=feed("rss20_bad_entry.xml"))]}) as server:
        source = rss_source(server.url + "/feed")
        result = source_sync(source=source)
        again = source_sync(source=source)
    assert (result.created, result.quarantined) == (1, 1)
    assert again.created == 0
    kept = Quarantine.objects.get(source=source)
    assert kept.reason == "entry has neither a title nor any text" and "su-it-empty" in kept.raw
    assert Quarantine.objects.filter(source=source).count() == 1  # the same bad entry is kept once


def test_truncated_feed_keeps_complete_entries_and_refetches() -> None:
    routes = {
        ("GET", "/feed"): [
            Reply(200, {"ETag": '"cut"'}, feed("rss20_truncated.xml")),
            Reply(200, body=feed("rss20.xml")),
        ]
    }
    with ReplayServer(routes) as server:
        source = rss_source(server.url + "/feed")
        first = source_sync(source=source)
        source.refresh_from_db()
        assert source.cursor == {}  # a malformed document's ETag is not trusted
        second = source_sync(source=source)
    assert (first.created, first.quarantined) == (1, 1)
    assert "malformed" in Quarantine.objects.get(source=source).reason
    assert (second.created, second.duplicates) == (2, 1)
    assert "If-None-Match" not in server.requests[1].headers
    assert Mention.objects.filter(source=source).count() == 3


def test_not_a_feed_quarantined_and_fails() -> None:
    with ReplayServer(
        {("GET", "/feed"): [Reply(200, {"Content-Type": "text/html"}, feed("not_a_feed.txt"))]}
    ) as server:
        source = rss_source(server.url + "/feed")
        with pytest.raises(ConnectorError, match="not an RSS or Atom feed") as failure:
            source_sync(source=source)
    assert failure.value.result is not None and failure.value.result.quarantined == 1
    source.refresh_from_db()
    assert "not an RSS or Atom feed" in source.last_error and source.consecutive_failures == 1
    assert source.next_try_at is not None


def test_429_retry_after_and_500_backoff() -> None:
    routes = {
        ("GET", "/busy"): [Reply(429, {"Retry-After": "90"}, "rate limited")],
        ("GET", "/broken"): [Reply(500, body="internal error")],
    }
    with ReplayServer(routes) as server:
        busy = rss_source(server.url + "/busy", name="busy")
        with pytest.raises(ConnectorError) as limited:
            source_sync(source=busy)
        broken = rss_source(server.url + "/broken", name="broken")
        for _ in range(3):
            with pytest.raises(ConnectorError, match="HTTP 500"):
                source_sync(source=broken)
    assert limited.value.retry_after == 90
    busy.refresh_from_db()
    delay = (busy.next_try_at - busy.last_error_at).total_seconds()
    assert 89 <= delay <= 91
    broken.refresh_from_db()
    assert broken.consecutive_failures == 3
    backoff = (broken.next_try_at - broken.last_error_at).total_seconds()
    assert 240 <= backoff <= 240 * 1.1 + 1  # 60 s doubled per consecutive failure


def test_private_feed_refused_in_production(settings: Any) -> None:
    with ReplayServer({("GET", "/feed"): [Reply(200, body=feed("rss20.xml"))]}) as server:
        source = rss_source(server.url + "/feed")  # added while allowed, or its name resolved elsewhere then
        settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
        with pytest.raises(SourceConfigError, match=r"option url: refusing .*not a public address"):
            rss_source(server.url + "/feed", name="again")
        with pytest.raises(ConnectorError, match="not a public address"):
            source_sync(source=source)
    assert server.requests == []


def test_error_page_is_one_line_in_the_source_health() -> None:
    page = "<!DOCTYPE HTML>\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n</body>"
    routes = {("GET", "/feed"): [Reply(404, {"Content-Type": "text/html; charset=iso-8859-1"}, page)]}
    with ReplayServer(routes) as server:
        source = rss_source(server.url + "/feed")
        with pytest.raises(ConnectorError) as failed:
            source_sync(source=source)
    assert str(failed.value) == f"{server.url}/feed: HTTP 404 Not Found"
    source.refresh_from_db()
    assert source.last_error == f"{server.url}/feed: HTTP 404 Not Found"
