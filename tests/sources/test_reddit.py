"""The Reddit connector: praw (OAuth script app) against a loopback replay server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown, connector_for
from servicepulse.sources.services import SourceConfigError, source_create, source_sync
from tests.replay import ReplayServer, Reply

FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/reddit/fixtures"
pytestmark = pytest.mark.django_db
LIMITS = {"x-ratelimit-remaining": "590", "x-ratelimit-used": "10", "x-ratelimit-reset": "300"}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def reddit_routes(**extra: list[Any]) -> dict[tuple[str, str], list[Any]]:
    routes: dict[tuple[str, str], list[Any]] = {
        ("POST", "/api/v1/access_token"): [Reply(200, body=load("access_token.json"))],
        ("GET", "/r/northfielduni/new"): [Reply(200, LIMITS, load("subreddit_new.json"))],
        ("GET", "/r/northfielduni/comments/"): [Reply(200, LIMITS, load("subreddit_comments.json"))],
    }
    for key, replies in extra.items():
        method, path = key.split(" ", 1)
        routes[(method, path)] = replies
    return routes


def reddit_source(url: str, **options: str) -> Any:
    return source_create(
        kind="reddit",
        name="reddit",
        options={
            "subreddits": "northfielduni",
            "client_id": "app-id",
            "client_secret": "app-secret",
            "username": "NorthfieldIT",
            "password": "hunter2",
            "oauth_url": url,
            "reddit_url": url,
            **options,
        },
    )


def test_posts_and_comments_with_cursor() -> None:
    with ReplayServer(reddit_routes()) as server:
        source = reddit_source(server.url)
        first = source_sync(source=source)
        second = source_sync(source=source)
    assert (first.created, first.quarantined) == (5, 1)  # 3 posts, 2 comments; the [deleted] one kept aside
    assert (second.created, second.duplicates) == (0, 0)  # stopped at the cursor
    token = server.requests_to("/api/v1/access_token")[0]
    assert token.form()["grant_type"] == ["password"] and token.form()["username"] == ["NorthfieldIT"]
    assert token.headers["Authorization"].startswith("Basic ")
    listing = server.requests_to("/r/northfielduni/new")[0]
    assert listing.headers["Authorization"] == "bearer " + load("access_token.json")["access_token"]
    post = Mention.objects.get(source=source, external_id="t3_1h0a1a1")
    assert post.text == "Moodle down?\n\nCan't upload my essay, keeps timing out. Deadline at midnight!"
    assert post.author == "amy_h_nu" and post.thread_id == "t3_1h0a1a1"
    assert post.url == "https://www.reddit.com/r/northfielduni/comments/1h0a1a1/moodle_down?/"
    assert post.created_at.isoformat() == "2026-11-25T21:01:00+00:00"
    comment = Mention.objects.get(source=source, external_id="t1_lz1a1a1")
    assert comment.in_reply_to == "t3_1h0a1a1" and comment.thread_id == "t3_1h0a1a1"
    assert "deleted" in Quarantine.objects.get(source=source).reason
    source.refresh_from_db()
    assert (
        source.cursor["posts"]["name"] == "t3_1h0c3c3" and source.cursor["comments"]["name"] == "t1_lz3c3c3"
    )


def test_new_posts_after_cursor() -> None:
    newer = load("subreddit_new.json")
    fresh = json.loads(json.dumps(newer["data"]["children"][0]))
    fresh["data"].update(
        name="t3_1h0d4d4", id="1h0d4d4", title="VPN down from halls", selftext="", created_utc=1795644000.0
    )
    newer["data"]["children"].insert(0, fresh)
    routes = reddit_routes(
        **{
            "GET /r/northfielduni/new": [
                Reply(200, LIMITS, load("subreddit_new.json")),
                Reply(200, LIMITS, newer),
            ]
        }
    )
    with ReplayServer(routes) as server:
        source = reddit_source(server.url, comments="false")
        assert source_sync(source=source).created == 3
        again = source_sync(source=source)
    assert (again.created, again.duplicates) == (1, 0)
    assert Mention.objects.get(source=source, external_id="t3_1h0d4d4").text == "VPN down from halls"


def test_rate_limited_and_server_error() -> None:
    routes = reddit_routes(
        **{
            "GET /r/northfielduni/new": [
                Reply(429, {"Retry-After": "60"}, "Too Many Requests"),
                Reply(500, body="<html>500</html>"),
            ]
        }
    )
    with ReplayServer(routes) as server:
        source = reddit_source(server.url, comments="false")
        with pytest.raises(ConnectorError, match="429") as limited:
            source_sync(source=source)
        assert limited.value.retry_after == 60
        with pytest.raises(ConnectorError, match="HTTP 500"):
            source_sync(source=source)  # prawcore retries a 500 twice before giving up
    source.refresh_from_db()
    assert source.consecutive_failures == 2 and "HTTP 500" in source.last_error


def test_truncated_listing_then_recovery() -> None:
    body = json.dumps(load("subreddit_new.json")).encode()
    routes = reddit_routes(
        **{
            "GET /r/northfielduni/new": [
                Reply(200, LIMITS, body[:300]),
                Reply(200, LIMITS, load("subreddit_new.json")),
            ]
        }
    )
    with ReplayServer(routes) as server:
        source = reddit_source(server.url, comments="false")
        with pytest.raises(ConnectorError):
            source_sync(source=source)
        source.refresh_from_db()
        assert source.cursor == {} and not Mention.objects.filter(source=source).exists()
        assert source_sync(source=source).created == 3


def test_bad_credentials() -> None:
    routes = reddit_routes(
        **{"POST /api/v1/access_token": [Reply(401, body={"message": "Unauthorized", "error": 401})]}
    )
    with ReplayServer(routes) as server:
        source = reddit_source(server.url)
        with pytest.raises(ConnectorError, match=r"401|credentials"):
            source_sync(source=source)


def test_private_endpoint_refused_in_production(settings: Any) -> None:
    with ReplayServer(reddit_routes()) as server:
        source = reddit_source(server.url)  # added while allowed, or its name resolved elsewhere then
        settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
        with pytest.raises(SourceConfigError, match=r"option oauth_url: refusing .*not a public address"):
            source_create(kind="reddit", name="again", options={**source.options, **source.secrets})
        with pytest.raises(ConnectorError, match="not a public address"):
            source_sync(source=source)
    assert server.requests == []


def test_error_page_is_one_line() -> None:
    page = "<!DOCTYPE html>\n<html>\n<head><title>Not Found</title></head>\n<body>\n<h1>404</h1>\n</body>\n</html>\n"
    routes = reddit_routes(**{"GET /r/northfielduni/new": [Reply(404, {"Content-Type": "text/html"}, page)]})
    with ReplayServer(routes) as server:
        source = reddit_source(server.url, comments="false")
        with pytest.raises(ConnectorError) as failed:
            source_sync(source=source)
    assert str(failed.value) == "r/northfielduni posts: HTTP 404 Not Found"


def test_reply_as_the_account() -> None:
    routes = reddit_routes(**{"POST /api/comment/": [Reply(200, body=load("api_comment.json"))]})
    with ReplayServer(routes) as server:
        source = reddit_source(server.url)
        source_sync(source=source)
        mention = Mention.objects.get(source=source, external_id="t3_1h0a1a1")
        result = connector_for(source).reply(
            mention=mention, text="Thanks for flagging, we are looking at it"
        )
    assert result.external_id == "t1_lzreply1"
    assert result.url.startswith("https://www.reddit.com/r/northfielduni/comments/1h0a1a1/")
    form = server.requests_to("/api/comment/", "POST")[0].form()
    assert form["thing_id"] == ["t3_1h0a1a1"] and form["text"] == [
        "Thanks for flagging, we are looking at it"
    ]


def test_a_reply_reddit_answers_too_late_is_not_retried_by_prawcore(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """prawcore retries a request that timed out, a comment included: Reddit would have it two or three times.
    The guarded session turns a creating request without an answer into one prawcore does not retry, and the
    reply says it may have been posted (OutcomeUnknown)."""
    import prawcore.sessions

    monkeypatch.setitem(prawcore.sessions.Session.request.__kwdefaults__, "timeout", 0.5)
    routes = reddit_routes(**{"POST /api/comment/": [Reply(200, body=load("api_comment.json"), delay=1.5)]})
    with ReplayServer(routes) as server:
        source = reddit_source(server.url)
        source_sync(source=source)
        mention = Mention.objects.get(source=source, external_id="t3_1h0a1a1")
        with pytest.raises(OutcomeUnknown, match="Reddit did not answer"):
            connector_for(source).reply(mention=mention, text="Thanks for flagging")
        assert len(server.requests_sent_to("/api/comment/", "POST")) == 1


def test_reply_refused_by_reddit() -> None:
    routes = reddit_routes(**{"POST /api/comment/": [Reply(200, body=load("api_comment_ratelimit.json"))]})
    with ReplayServer(routes) as server:
        source = reddit_source(server.url)
        source_sync(source=source)
        mention = Mention.objects.get(source=source, external_id="t1_lz1a1a1")
        with pytest.raises(ConnectorError, match="RATELIMIT"):
            connector_for(source).reply(mention=mention, text="hello")


def test_more_new_posts_than_one_page_are_all_kept() -> None:
    """After a quiet spell (a weekend off, a back-off after errors) more than a page of posts is new: the walk
    follows `after` down to the cursor instead of stopping at the first 100 and jumping the cursor over the
    rest. Listings give at most 100 things per request and page on with `after`, the fullname of the last
    thing (https://www.reddit.com/dev/api/#listings, #GET_new)."""
    first = load("subreddit_new.json")
    template = first["data"]["children"][0]
    newest_created = max(child["data"]["created_utc"] for child in first["data"]["children"])
    fresh = []
    for n in range(150, 0, -1):  # newest first, as /new lists them
        child = json.loads(json.dumps(template))
        child["data"].update(
            name=f"t3_new{n:03d}",
            id=f"new{n:03d}",
            title=f"Wifi in the library dropped again ({n})",
            selftext="",
            created_utc=newest_created + n * 60,
            permalink=f"/r/northfielduni/comments/new{n:03d}/wifi/",
        )
        fresh.append(child)

    def listing(children: list[Any], after: str | None) -> dict[str, Any]:
        page = json.loads(json.dumps(first))
        page["data"].update(children=children, after=after, dist=len(children))
        return page

    def newer(request: Any) -> Reply:
        after = request.query.get("after", [None])[0]
        if after is None:
            return Reply(200, LIMITS, listing(fresh[:100], fresh[99]["data"]["name"]))
        assert after == fresh[99]["data"]["name"]
        return Reply(200, LIMITS, listing(fresh[100:] + first["data"]["children"], None))

    routes = reddit_routes(
        **{"GET /r/northfielduni/new": [Reply(200, LIMITS, load("subreddit_new.json")), newer, newer]}
    )
    with ReplayServer(routes) as server:
        source = reddit_source(server.url, comments="false")
        assert source_sync(source=source).created == 3
        again = source_sync(source=source)
        assert (again.created, again.duplicates, again.quarantined) == (150, 0, 0)
        source.refresh_from_db()
        assert source.cursor["posts"]["name"] == "t3_new150"
        third = source_sync(source=source)  # the same listing again: nothing new, nothing twice
    assert (third.created, third.duplicates) == (0, 0)
    assert Mention.objects.filter(source=source).count() == 153
    assert Mention.objects.filter(source=source, external_id="t3_new001").exists()
