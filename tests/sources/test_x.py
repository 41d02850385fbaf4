"""X connector: tweepy's real Client against a loopback replay of the X API v2 (recent search, posting)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.connectors.x import XConnector, query_list
from servicepulse.sources.connectors.x.parse import parse_tweet, users_by_id
from servicepulse.sources.models import Source
from servicepulse.sources.registry import ConnectorError, connector_for
from servicepulse.sources.services import (
    SourceConfigError,
    source_create,
    source_poll_interval,
    source_sync,
)
from tests.factories import MentionFactory
from tests.replay import ReplayServer, Reply

FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/x/fixtures"
SEARCH = "/2/tweets/search/recent"
QUERY = "(moodle OR vle) northgate -is:retweet"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def source(db):  # type: ignore[no-untyped-def]
    return source_create(
        kind="x",
        name="x-northgate",
        options={
            "queries": QUERY,
            "bearer_token": "AAAA-app-bearer",
            "user_access_token": "user-ctx-token",
            "api_base_url": "http://127.0.0.1:1",
            "max_pages": 3,
        },
    )


def point_at(source, server: ReplayServer, **options) -> None:  # type: ignore[no-untyped-def]
    source.options["api_base_url"] = server.url
    source.options.update(options)
    source.save()


def search(request):  # type: ignore[no-untyped-def]
    assert request.headers["Authorization"] == "Bearer AAAA-app-bearer"
    assert request.query["query"] == [QUERY]
    if request.query.get("next_token") == ["b26v89c19zqg8o3frr3o1n3x1qz7ma7m2o7t1d2gqk6j5"]:
        return Reply(200, body=fixture("search_recent_page2.json"))
    if request.query.get("since_id") == ["1993456789012345690"]:
        return Reply(200, body=fixture("search_recent_empty.json"))
    return Reply(200, body=fixture("search_recent_page1.json"))


def test_description_states_the_cost_model() -> None:
    assert "Pay per use since February 2026" in XConnector.description
    assert "billed" in XConnector.description
    assert query_list("a OR b\n\n  c -is:retweet ") == ["a OR b", "c -is:retweet"]


def test_recent_search_pages_then_uses_since_id(source) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer({("GET", SEARCH): [search]}) as server:
        point_at(source, server)
        first = source_sync(source=source)
        second = source_sync(source=source)
    assert (first.created, first.quarantined) == (3, 1)  # a retweet skipped; one post lacks created_at
    assert second.created == 0
    first_call, second_page, next_pull = server.requests
    assert first_call.query["expansions"] == ["author_id"]
    assert "created_at" in first_call.query["tweet.fields"][0]
    assert "start_time" in first_call.query and "since_id" not in first_call.query
    assert second_page.query["next_token"] == ["b26v89c19zqg8o3frr3o1n3x1qz7ma7m2o7t1d2gqk6j5"]
    assert next_pull.query["since_id"] == ["1993456789012345690"] and "start_time" not in next_pull.query
    source.refresh_from_db()
    assert source.cursor["since_id"] == {QUERY: "1993456789012345690"}
    post = Mention.objects.get(external_id="1993456789012345690")
    assert post.author == "@priyar_ngu" and post.author_id == "1456789012345678901"
    assert post.url == "https://x.com/priyar_ngu/status/1993456789012345690" and post.language == "en"
    reply = Mention.objects.get(external_id="1993456789012345688")
    assert reply.in_reply_to == "1993456789012345600" and reply.thread_id == "1993456789012345600"
    assert Mention.objects.get(external_id="1993456789012345601").language == ""
    assert not Mention.objects.filter(external_id="1993456789012345689").exists()
    assert "created_at is missing" in Quarantine.objects.get(source=source).reason


def test_scheduled_pulls_are_an_hour_apart(source) -> None:  # type: ignore[no-untyped-def]
    assert source_poll_interval(source=source).total_seconds() == 3600
    with ReplayServer({("GET", SEARCH): [search]}) as server:
        point_at(source, server, max_pages=1)
        source_sync(source=source)
    source.refresh_from_db()
    assert 3590 <= (source.next_try_at - source.last_success_at).total_seconds() <= 3600


def test_429_reports_the_reset_time(source) -> None:  # type: ignore[no-untyped-def]
    reset = str(int(time.time()) + 600)
    limited = Reply(
        429, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}, fixture("error_429.json")
    )
    with ReplayServer({("GET", SEARCH): [limited, search]}) as server:
        point_at(source, server)
        with pytest.raises(ConnectorError, match="rate limit") as caught:
            source_sync(source=source)
        assert 590 <= (caught.value.retry_after or 0) <= 601
        assert source_sync(source=source).created == 3


def test_429_with_retry_after_header(source) -> None:  # type: ignore[no-untyped-def]
    limited = Reply(429, {"Retry-After": "45"}, fixture("error_429.json"))
    with ReplayServer({("GET", SEARCH): [limited]}) as server:
        point_at(source, server)
        with pytest.raises(ConnectorError) as caught:
            source_sync(source=source)
    assert caught.value.retry_after == 45
    source.refresh_from_db()
    assert source.consecutive_failures == 1 and source.cursor == {}


@pytest.mark.parametrize(
    "reply",
    [
        Reply(503, body=b'{"title": "Service Unavailable", "status": 503}'),
        Reply(200, body=fixture("search_recent_page1.json"), truncate_at=150),
        Reply(200, body=b"{not json"),
        Reply(200, body=b'{"data": {"id": "1"}, "meta": {}}'),
    ],
    ids=["server-error", "truncated", "malformed", "wrong-shape"],
)
def test_failures_do_not_move_the_cursor(source, reply: Reply) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer({("GET", SEARCH): [reply]}) as server:
        point_at(source, server)
        with pytest.raises(ConnectorError):
            source_sync(source=source)
    source.refresh_from_db()
    assert "since_id" not in source.cursor and source.last_error


def test_reply_posts_with_in_reply_to(source) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer({("GET", SEARCH): [search]}) as server:
        point_at(source, server, max_pages=1)
        source_sync(source=source)
        server.add("POST", "/2/tweets", Reply(201, body=fixture("create_tweet.json")))
        mention = Mention.objects.get(external_id="1993456789012345690")
        result = connector_for(source).reply(mention=mention, text="@priyar_ngu Sorry Priya, we're on it.")
    sent = server.requests[-1]
    assert sent.json() == {
        "text": "@priyar_ngu Sorry Priya, we're on it.",
        "reply": {"in_reply_to_tweet_id": "1993456789012345690"},
    }
    assert sent.headers["Authorization"] == "Bearer user-ctx-token"
    assert result.external_id == "1993456789012345999"


def test_reply_with_oauth1_keys_signs_the_request(source) -> None:  # type: ignore[no-untyped-def]
    source.set_secrets(
        {
            "bearer_token": "AAAA-app-bearer",
            "consumer_key": "ck",
            "consumer_secret": "cs",
            "access_token": "at",
            "access_token_secret": "ats",
        }
    )
    source.save()
    with ReplayServer(
        {("GET", SEARCH): [search], ("POST", "/2/tweets"): [Reply(201, body=fixture("create_tweet.json"))]}
    ) as server:
        point_at(source, server, max_pages=1)
        source_sync(source=source)
        mention = Mention.objects.get(external_id="1993456789012345690")
        connector_for(source).reply(mention=mention, text="on it")
    assert server.requests[-1].headers["Authorization"].startswith("OAuth ")


def test_reply_refused_and_reply_without_user_credentials(source) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer(
        {("GET", SEARCH): [search], ("POST", "/2/tweets"): [Reply(403, body=fixture("error_403.json"))]}
    ) as server:
        point_at(source, server, max_pages=1)
        source_sync(source=source)
        mention = Mention.objects.get(external_id="1993456789012345690")
        with pytest.raises(ConnectorError, match="not permitted"):
            connector_for(source).reply(mention=mention, text="hello")
        source.set_secrets({"bearer_token": "AAAA-app-bearer"})
        source.save()
        with pytest.raises(ConnectorError, match="user_access_token"):
            connector_for(source).reply(mention=mention, text="hello")


# -- property tests ------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
tweets = st.fixed_dictionaries(
    {},
    optional={
        "id": st.from_regex(r"\A[0-9]{1,19}\Z") | json_values,
        "text": st.text(max_size=30) | json_values,
        "created_at": st.text(max_size=30) | json_values,
        "author_id": json_values,
        "conversation_id": json_values,
        "lang": json_values,
        "referenced_tweets": st.lists(st.fixed_dictionaries({"type": json_values, "id": json_values}))
        | json_values,
    },
)


@given(tweet=tweets | json_values, payload=json_values)
@hsettings(max_examples=300, deadline=None)
def test_parse_tweet_only_raises_parse_errors(tweet: object, payload: object) -> None:
    users = users_by_id(payload) if isinstance(payload, dict) else {}
    try:
        result = parse_tweet(tweet, users=users)
    except ValueError:
        return
    assert result is None or result.external_id.isdigit()


def test_private_api_address_refused_without_the_allowance(source, settings) -> None:  # type: ignore[no-untyped-def]
    mention = MentionFactory(source=source, external_id="1993456789012345690")
    with ReplayServer({("GET", SEARCH): [search]}) as server:
        settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
        with pytest.raises(
            SourceConfigError, match=r"api_base_url: refusing .*127\.0\.0\.1.*not a public address"
        ):
            source_create(
                kind="x",
                name="x2",
                options={"queries": QUERY, "bearer_token": "t", "api_base_url": server.url},
            )
        # Stored while allowed, or a name that resolved elsewhere then: every request is checked again.
        point_at(source, server)
        with pytest.raises(ConnectorError, match="not a public address"):
            source_sync(source=source)
        with pytest.raises(ConnectorError, match="not a public address"):
            connector_for(source).reply(mention=mention, text="We're on it.")
    assert server.requests == []  # neither token went anywhere
    assert not Source.objects.filter(name="x2").exists()


def test_more_new_posts_than_a_pull_reads_are_read_by_the_next_pulls(source) -> None:  # type: ignore[no-untyped-def]
    """An outage evening brings more new posts than `max_pages` pages hold: the next pulls read on below
    the oldest post read (`until_id`) instead of `since_id` jumping to the newest and the posts between
    never being read. Recent search answers newest first within `since_id`/`until_id`, `max_results` a
    page, with `meta.newest_id`, `meta.oldest_id` and `meta.next_token` while more remain
    (https://docs.x.com/x-api/posts/search-recent-posts, https://docs.x.com/x-api/fundamentals/pagination)."""
    first = json.loads(fixture("search_recent_page1.json"))
    template = first["data"][0]
    posts = [
        {**template, "id": str(1993456789012345000 + n), "text": f"@NorthgateUni moodle down ({n})"}
        for n in range(3)
    ]

    def recent(request):  # type: ignore[no-untyped-def]
        low = int(request.query.get("since_id", ["0"])[0])
        high = int(request.query.get("until_id", [str(10**30)])[0])
        size = int(request.query["max_results"][0])
        offset = int(request.query.get("next_token", ["0"])[0])
        found = sorted((p for p in posts if low < int(p["id"]) < high), key=lambda p: -int(p["id"]))
        page = found[offset : offset + size]
        if not page:
            return Reply(200, body={"meta": {"result_count": 0}})
        meta = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"], "result_count": len(page)}
        if offset + size < len(found):
            meta["next_token"] = str(offset + size)
        return Reply(200, body={"data": page, "includes": first["includes"], "meta": meta})

    with ReplayServer({("GET", SEARCH): [recent]}) as server:
        point_at(source, server, max_pages=1, max_results=10)
        assert source_sync(source=source).created == 3
        posts.extend(
            {**template, "id": str(1993456789012346000 + n), "text": f"@NorthgateUni still down ({n})"}
            for n in range(25)
        )
        created = [source_sync(source=source).created for _ in range(4)]
    assert created == [10, 10, 5, 0]
    assert Mention.objects.filter(source=source).count() == 28
    source.refresh_from_db()
    assert source.cursor == {"since_id": {QUERY: "1993456789012346024"}}
