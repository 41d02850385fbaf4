"""A post the network made but answered too late (after the client's timeout) is not made twice by the retry:
Mastodon gets the same Idempotency-Key, Bluesky the same record key (a TID), and X is looked up on the
account first. Loopback servers that keep the posts they create, answering the first create late."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone

from servicepulse.publish.crosspost import target_set
from servicepulse.publish.models import CrossPost, CrossPostState, CrossPostTarget
from servicepulse.sources.connectors.bluesky.client import TID_ALPHABET, record_key
from servicepulse.sources.registry import SendKey
from tests.publish.conftest import fixture
from tests.publish.test_crosspost import bluesky_account, mastodon_account, publish_post, x_account
from tests.replay import RecordedRequest, ReplayServer, Reply

pytestmark = pytest.mark.django_db
LATE = 1.5  # seconds the first create waits before answering: beyond the client's timeout below
ORG = "did:plc:northfieldituni0000000000"


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    # The clients' timeouts (15 s, 10 s) shortened so a late answer is a timeout within the test.
    monkeypatch.setattr("servicepulse.sources.connectors.mastodon.client.TIMEOUT", 0.5)
    monkeypatch.setattr("servicepulse.sources.connectors.bluesky.client.TIMEOUT", 0.5)
    monkeypatch.setattr("servicepulse.core.fetcher.DEFAULT_TIMEOUT", 0.5)


def late_first(create: Any) -> Any:
    """A route that runs `create(request) -> Reply` every time and delays the first answer past the timeout."""
    calls = itertools.count()

    def route(request: RecordedRequest) -> Reply:
        reply = create(request)
        if next(calls) == 0:
            reply.delay = LATE
        return reply

    return route


def test_mastodon_retry_after_a_timeout_returns_the_status_made(run_publish_tasks) -> None:  # type: ignore[no-untyped-def]
    statuses: dict[str, str] = {}  # Idempotency-Key -> status id, as Mastodon keeps them for an hour

    def post_status(request: RecordedRequest) -> Reply:
        key = request.headers["Idempotency-Key"]
        statuses.setdefault(key, str(113600000000000100 + len(statuses)))
        return Reply(200, body={**fixture("mastodon_status_post.json"), "id": statuses[key]})

    with ReplayServer({("POST", "/api/v1/statuses"): [late_first(post_status)]}) as server:
        target_set(network="mastodon", source=mastodon_account(server.url), mode=CrossPostTarget.Mode.AUTO)
        post = publish_post()
        assert run_publish_tasks() == ["sent"]
        keys = [r.headers["Idempotency-Key"] for r in server.requests_to("/api/v1/statuses", "POST")]
    copy = CrossPost.objects.get(post=post)
    assert len(keys) == 2 and keys[0] == keys[1] == f"servicepulse-crosspost-{copy.pk}"
    assert len(statuses) == 1
    assert copy.state == CrossPostState.SENT and copy.remote_id == "113600000000000100"


def bluesky_routes(records: dict[str, dict[str, Any]]) -> dict[tuple[str, str], list[Any]]:
    """A PDS that keeps records by rkey: createRecord under a taken rkey fails as the reference PDS does
    (HTTP 500, bluesky-social/atproto#3718), getRecord reads one back (400 RecordNotFound when absent)."""

    def create(request: RecordedRequest) -> Reply:
        body = request.json()
        rkey = body["rkey"]
        if rkey in records:
            return Reply(500, body={"error": "InternalServerError", "message": "Internal Server Error"})
        records[rkey] = {
            "uri": f"at://{ORG}/app.bsky.feed.post/{rkey}",
            "cid": f"bafyreicopy{len(records):04d}",
            "value": body["record"],
        }
        return Reply(200, body={"uri": records[rkey]["uri"], "cid": records[rkey]["cid"]})

    def get(request: RecordedRequest) -> Reply:
        found = records.get(request.query["rkey"][0])
        if found is None:
            return Reply(400, body={"error": "RecordNotFound", "message": "Could not locate record"})
        return Reply(200, body=found)

    return {
        ("POST", "/xrpc/com.atproto.server.createSession"): [
            Reply(200, body=fixture("bluesky_create_session.json"))
        ],
        ("POST", "/xrpc/com.atproto.repo.createRecord"): [late_first(create)],
        ("GET", "/xrpc/com.atproto.repo.getRecord"): [get],
    }


def test_bluesky_retry_after_a_timeout_takes_the_post_already_under_its_record_key(run_publish_tasks) -> None:  # type: ignore[no-untyped-def]
    records: dict[str, dict[str, Any]] = {}
    with ReplayServer(bluesky_routes(records)) as server:
        target_set(network="bluesky", source=bluesky_account(server.url), mode=CrossPostTarget.Mode.AUTO)
        post = publish_post()
        assert run_publish_tasks() == ["sent"]
        rkeys = [r.json()["rkey"] for r in server.requests_to("/xrpc/com.atproto.repo.createRecord")]
    copy = CrossPost.objects.get(post=post)
    assert len(rkeys) == 2 and rkeys[0] == rkeys[1] and list(records) == [rkeys[0]]
    assert copy.state == CrossPostState.SENT
    assert copy.remote_id == f"at://{ORG}/app.bsky.feed.post/{rkeys[0]}"
    assert copy.remote_url == f"https://bsky.app/profile/{ORG}/post/{rkeys[0]}"
    assert copy.remote_extra == {"cid": records[rkeys[0]]["cid"]}


def test_x_retry_after_a_timeout_finds_the_post_instead_of_posting_again(run_publish_tasks) -> None:  # type: ignore[no-untyped-def]
    from django_tasks_db.models import DBTaskResult

    tweets: list[dict[str, Any]] = []

    def create(request: RecordedRequest) -> Reply:
        tweet = {"id": str(1993600000000000100 + len(tweets)), "text": request.json()["text"]}
        tweets.append({**tweet, "created_at": timezone.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")})
        return Reply(201, body={"data": {**tweet, "edit_history_tweet_ids": [tweet["id"]]}})

    def timeline(request: RecordedRequest) -> Reply:
        # X shortens links to t.co in the text it gives back.
        shown = [{**t, "text": t["text"].rsplit("http", 1)[0] + "https://t.co/abc123"} for t in tweets]
        return Reply(200, body={"data": shown[::-1], "meta": {"result_count": len(shown)}})

    routes = {
        ("POST", "/2/tweets"): [late_first(create)],
        ("GET", "/2/users/me"): [Reply(200, body={"data": {"id": "42", "name": "Northfield IT",
                                                           "username": "northfieldit"}})],
        ("GET", "/2/users/42/tweets"): [timeline],
    }  # fmt: skip
    with ReplayServer(routes) as server:
        target_set(network="x", source=x_account(server.url), mode=CrossPostTarget.Mode.AUTO)
        post = publish_post()
        assert run_publish_tasks() == ["scheduled"]
        copy = CrossPost.objects.get(post=post)
        assert "trying again" in copy.error and len(tweets) == 1
        # The minute's wait has passed.
        CrossPost.objects.filter(pk=copy.pk).update(send_at=timezone.now())
        DBTaskResult.objects.update(run_after=timezone.now())
        assert run_publish_tasks() == ["sent"]
        assert len(server.requests_to("/2/tweets", "POST")) == 1
        looked = server.requests_to("/2/users/42/tweets")[0]
    copy.refresh_from_db()
    assert len(tweets) == 1
    assert copy.state == CrossPostState.SENT and copy.remote_id == tweets[0]["id"]
    assert copy.remote_url == f"https://x.com/i/web/status/{tweets[0]['id']}"
    assert looked.query["start_time"][0] <= copy.first_tried_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_record_key_is_a_tid_stable_across_tries_and_different_between_posts() -> None:
    first = datetime(2026, 12, 1, 9, 30, 12, 345678, tzinfo=UTC)
    one = record_key(SendKey(name="servicepulse-loop-7", first_try=first))
    again = record_key(SendKey(name="servicepulse-loop-7", first_try=first, retry=True))
    other = record_key(SendKey(name="servicepulse-loop-8", first_try=first))
    assert one == again and one != other
    assert len(one) == 13 and set(one) <= set(TID_ALPHABET) and one[0] in "234567abcdefghij"
    value = 0
    for char in one:
        value = value * 32 + TID_ALPHABET.index(char)
    assert (value >> 10) // 1_000_000 == int(first.timestamp())  # it reads as the time of the first try


def test_two_copies_carry_different_keys(run_publish_tasks) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer(
        {("POST", "/api/v1/statuses"): [Reply(200, body=fixture("mastodon_status_post.json"))]}
    ) as server:
        target_set(network="mastodon", source=mastodon_account(server.url), mode=CrossPostTarget.Mode.AUTO)
        publish_post()
        with TestCase.captureOnCommitCallbacks(execute=True):
            from servicepulse.blog.services import post_create, post_publish

            other = post_create(title="Wi-Fi works again", body_markdown="Fixed.", author=None, slug="wifi")
            post_publish(post=other)
        assert run_publish_tasks() == ["sent", "sent"]
        keys = [r.headers["Idempotency-Key"] for r in server.requests_to("/api/v1/statuses", "POST")]
    assert len(set(keys)) == 2
