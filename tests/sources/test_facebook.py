"""Facebook Page connector: the webhook receiver through Django's test client, backfill and replies through
httpx against a loopback replay of Graph API fixtures."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client
from freezegun import freeze_time
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.connectors.facebook.parse import NoText, parse_feed_change
from servicepulse.sources.models import Source
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown, connector_for
from servicepulse.sources.services import SourceConfigError, source_create, source_sync
from tests.factories import MentionFactory
from tests.replay import ReplayServer, Reply

FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/facebook/fixtures"
APP_SECRET = "fb-app-secret-for-tests"
PAGE_ID = "104857600123456"
# A day after the newest post of the Graph API fixtures (2026-11-23T21:49:10Z). The first pull reads back
# `backfill_days` (7) from the clock: on the real clock, from 2026-11-30 the fixtures' posts were too old to
# move the cursor, and the backfill tests failed whenever they ran.
FIXTURES_NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def source(db):  # type: ignore[no-untyped-def]
    return source_create(
        kind="facebook",
        name="northgate-fb",
        options={
            "page_id": PAGE_ID,
            "page_access_token": "EAAG-page-token",
            "app_secret": APP_SECRET,
            "verify_token": "let-me-in",
            "api_base_url": "http://127.0.0.1:1",
        },
    )


def deliver(client: Client, body: bytes, signature: str | None) -> object:
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature else {}
    return client.post("/sources/hooks/northgate-fb/", data=body, content_type="application/json", **headers)


# -- webhook -------------------------------------------------------------------------------------------------


def test_verification_handshake(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    ok = client.get(
        "/sources/hooks/northgate-fb/",
        {"hub.mode": "subscribe", "hub.verify_token": "let-me-in", "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong = client.get(
        "/sources/hooks/northgate-fb/",
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
    )
    assert wrong.status_code == 403


def test_signed_comment_is_stored_once_across_redeliveries(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    body = fixture("webhook_feed_comment.json")
    first = deliver(client, body, sign(body))
    again = deliver(client, body, sign(body))
    assert first.status_code == 200 and first.json()["created"] == 1
    assert again.status_code == 200 and again.json() == {
        "created": 0,
        "duplicates": 1,
        "quarantined": 0,
        "ignored": 0,
    }
    mention = Mention.objects.get(source=source)
    assert mention.external_id == "987654321012345_1122334455667788"
    assert mention.author == "Priya Raman" and mention.author_id == "6021847710093321"
    assert mention.thread_id == "104857600123456_987654321012345"
    assert mention.created_at.timestamp() == 1795469998
    assert "Moodle keeps timing out" in mention.text


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "sha1=abc", sign(b"other body"), sign(b"x", secret="wrong-secret")],
)
def test_bad_signatures_are_refused(source, client: Client, signature: str | None) -> None:  # type: ignore[no-untyped-def]
    body = fixture("webhook_feed_comment.json")
    response = deliver(client, body, signature)
    assert response.status_code == 403
    assert Mention.objects.count() == 0 and Quarantine.objects.count() == 0


def test_oversized_body_is_refused(source, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_WEBHOOK_MAX_BYTES = 512
    body = fixture("webhook_feed_comment.json")
    assert len(body) > 512
    response = deliver(client, body, sign(body))
    assert response.status_code == 413
    assert Mention.objects.count() == 0


def test_mixed_delivery_keeps_valid_items_and_quarantines_the_broken_one(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    body = fixture("webhook_feed_mixed.json")
    response = deliver(client, body, sign(body))
    assert response.status_code == 200
    assert response.json() == {"created": 2, "duplicates": 0, "quarantined": 1, "ignored": 2, "skipped": 1}
    nested = Mention.objects.get(external_id="987654321012345_1122334455667799")
    assert nested.in_reply_to == "987654321012345_1122334455667788"
    assert Mention.objects.filter(external_id="104857600123456_555666777888999").exists()
    kept = Quarantine.objects.get(source=source)
    assert "comment_id is missing" in kept.reason and "change 5" in kept.position


def test_webhook_skips_photo_and_gif_comments_without_words_and_quarantines_only_broken_ones(
    source, client: Client
) -> None:  # type: ignore[no-untyped-def]
    """A comment that is only a photo, GIF or sticker reaches the `feed` webhook with `message` left out and
    the media's URL as `photo` or `video`. Like the backfill, the webhook skips it and counts it; it used to
    quarantine every one as "message is missing", burying the real faults an admin is asked to review. A
    photo comment with words is stored; a change with a missing id or a message that is not a string is
    still quarantined with its reason, and the valid comment beside them is still stored."""
    body = fixture("webhook_feed_photo_comments.json")
    first = deliver(client, body, sign(body))
    again = deliver(client, body, sign(body))  # Meta redelivers: the skipped stay skipped
    assert first.status_code == 200 and again.status_code == 200
    assert first.json() == {"created": 1, "duplicates": 0, "quarantined": 2, "ignored": 0, "skipped": 4}
    assert again.json() == {"created": 0, "duplicates": 1, "quarantined": 2, "ignored": 0, "skipped": 4}
    stored = Mention.objects.get(source=source)
    assert stored.external_id == "987654321012345_1122334455668002"
    assert stored.text == "This is what Moodle shows me when I upload, error 500 every time"
    assert stored.raw["photo"].endswith("moodle-500.jpg")
    kept = sorted(Quarantine.objects.filter(source=source).values_list("position", "reason"))
    assert len(kept) == 2
    assert "change 5" in kept[0][0] and "comment_id is missing" in kept[0][1]
    assert "change 6" in kept[1][0] and "message must be a string" in kept[1][1]


def test_a_post_without_words_from_the_webhook_is_skipped_not_quarantined(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    """A visitor's status with no `message` (or a blank one) has nothing to read, as in the backfill."""
    changes = []
    for n, message in enumerate([None, "   "]):
        value = {
            "from": {"id": "5533120098765432", "name": "Tom Okafor"},
            "post_id": f"{PAGE_ID}_55566677788899{n}",
            "created_time": 1795470550 + n,
            "item": "status",
            "published": 1,
            "verb": "add",
        }
        if message is not None:
            value["message"] = message
        changes.append({"field": "feed", "value": value})
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1795470600, "changes": changes}]})
    response = deliver(client, body.encode(), sign(body.encode()))
    assert response.json() == {"created": 0, "duplicates": 0, "quarantined": 0, "ignored": 0, "skipped": 2}
    assert not Quarantine.objects.filter(source=source).exists()


@pytest.mark.parametrize(
    "body", [b'{"object": "page", "entry": [{"id": "1", "chan', b"\xff\xfe not json", b"[1, 2]"]
)
def test_malformed_but_signed_delivery_goes_to_quarantine_with_200(
    source, client: Client, body: bytes
) -> None:  # type: ignore[no-untyped-def]
    response = deliver(client, body, sign(body))
    assert response.status_code == 200 and response.json()["quarantined"] == 1
    assert Quarantine.objects.filter(source=source).count() == 1
    deliver(client, body, sign(body))  # redelivered: still kept once
    assert Quarantine.objects.filter(source=source).count() == 1


def test_unknown_or_disabled_source_is_404(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    assert (
        client.post("/sources/hooks/nobody/", data=b"{}", content_type="application/json").status_code == 404
    )
    source.enabled = False
    source.save()
    body = fixture("webhook_feed_comment.json")
    assert deliver(client, body, sign(body)).status_code == 404


# -- Graph API backfill and replies --------------------------------------------------------------------------


def graph_routes() -> dict:
    comments = {
        "987654321012345": fixture("graph_comments_987654321012345.json"),
    }

    def feed(request):  # type: ignore[no-untyped-def]
        assert request.query["access_token"] == ["EAAG-page-token"]
        expected_proof = hmac.new(APP_SECRET.encode(), b"EAAG-page-token", hashlib.sha256).hexdigest()
        assert request.query["appsecret_proof"] == [expected_proof]
        if request.query.get("after") == ["QVFIUkZAxZAnRRT3N0cFB"]:
            return Reply(200, body=fixture("graph_feed_page2.json"))
        return Reply(200, body=fixture("graph_feed_page1.json"))

    routes: dict = {("GET", f"/v23.0/{PAGE_ID}/feed"): [feed]}
    for post in ("987654321012345", "555666777888999", "444333222111000", "444333222111001"):
        body = comments.get(post, fixture("graph_comments_empty.json"))
        routes[("GET", f"/v23.0/{PAGE_ID}_{post}/comments")] = [Reply(200, body=body)]
    return routes


def point_at(source, server: ReplayServer) -> None:  # type: ignore[no-untyped-def]
    source.options["api_base_url"] = server.url
    source.save()


@freeze_time(FIXTURES_NOW, tick=True)
def test_backfill_reads_posts_and_comments_through_cursor_pages(source) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer(graph_routes()) as server:
        point_at(source, server)
        result = source_sync(source=source)
        again = source_sync(source=source)
    # Visitor posts (2) + comments (2); the Page's own posts are context only; one comment is malformed.
    assert (result.created, result.quarantined) == (4, 1)
    assert again.created == 0 and again.duplicates == 4
    nested = Mention.objects.get(external_id="987654321012345_1122334455667799")
    assert nested.in_reply_to == "987654321012345_1122334455667788"
    assert nested.thread_id == f"{PAGE_ID}_987654321012345"
    assert "message must be a string" in Quarantine.objects.get(source=source).reason
    source.refresh_from_db()
    assert source.cursor["since"] == 1795470550  # 2026-11-23T21:49:10Z, the newest post seen
    feed_calls = [r for r in server.requests if r.path.endswith("/feed")]
    assert feed_calls[0].query["fields"] == ["id,message,created_time,from,permalink_url"]


def test_backfill_rate_limit_records_retry_after(source) -> None:  # type: ignore[no-untyped-def]
    routes = {
        ("GET", f"/v23.0/{PAGE_ID}/feed"): [
            Reply(429, {"Retry-After": "120"}, fixture("graph_error_rate_limit.json"))
        ]
    }
    with ReplayServer(routes) as server:
        point_at(source, server)
        with pytest.raises(ConnectorError) as caught:
            source_sync(source=source)
    assert caught.value.retry_after == 120
    source.refresh_from_db()
    assert "Page request limit reached" in source.last_error and source.consecutive_failures == 1
    assert 110 <= (source.next_try_at - source.last_error_at).total_seconds() <= 130


def test_graph_rate_limit_code_without_retry_after_backs_off(source) -> None:  # type: ignore[no-untyped-def]
    routes = {("GET", f"/v23.0/{PAGE_ID}/feed"): [Reply(403, body=fixture("graph_error_rate_limit.json"))]}
    with ReplayServer(routes) as server:
        point_at(source, server)
        with pytest.raises(ConnectorError) as caught:
            source_sync(source=source)
    assert caught.value.retry_after and caught.value.retry_after >= 60


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, body=b'{"error": {"message": "An unexpected error has occurred.", "code": 2}}'),
        Reply(200, body=fixture("graph_feed_page1.json"), truncate_at=200),
        Reply(200, body=b"<html>gateway</html>"),
    ],
    ids=["server-error", "truncated", "not-json"],
)
def test_server_errors_and_broken_bodies_fail_without_moving_the_cursor(source, reply: Reply) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer({("GET", f"/v23.0/{PAGE_ID}/feed"): [reply]}) as server:
        point_at(source, server)
        with pytest.raises(ConnectorError):
            source_sync(source=source)
    source.refresh_from_db()
    assert source.cursor == {} and source.last_error


def test_reply_posts_a_comment_reply(source) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer(graph_routes()) as server:
        point_at(source, server)
        source_sync(source=source)
        server.add(
            "POST",
            "/v23.0/987654321012345_1122334455667788/comments",
            Reply(200, body=fixture("graph_comment_created.json")),
        )
        top = Mention.objects.get(external_id="987654321012345_1122334455667788")
        nested = Mention.objects.get(external_id="987654321012345_1122334455667799")
        connector = connector_for(source)
        first = connector.reply(mention=top, text="Sorry Priya, we're on it.")
        second = connector.reply(mention=nested, text="Fixed now, please try again.")
    posts = [r for r in server.requests if r.method == "POST"]
    assert first.external_id == "987654321012345_1122334455669999"
    # Both go to the top-level comment: Facebook threads replies one level deep.
    assert [r.path for r in posts] == ["/v23.0/987654321012345_1122334455667788/comments"] * 2
    assert posts[0].form()["message"] == ["Sorry Priya, we're on it."]
    assert second.url.endswith("comment_id=1122334455669999")


def test_a_reply_graph_answers_too_late_may_have_been_posted(source, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The comment was sent and no answer came in time: Graph may have made it, so the reply says so
    (OutcomeUnknown) instead of "refused", and nothing is sent again."""
    from servicepulse.core.fetcher import fetch

    monkeypatch.setitem(fetch.__kwdefaults__, "timeout", 0.5)  # type: ignore[index]
    with ReplayServer(graph_routes()) as server:
        point_at(source, server)
        source_sync(source=source)
        path = "/v23.0/987654321012345_1122334455667788/comments"
        server.add("POST", path, Reply(200, body=fixture("graph_comment_created.json"), delay=1.5))
        top = Mention.objects.get(external_id="987654321012345_1122334455667788")
        with pytest.raises(OutcomeUnknown, match="did not answer POST"):
            connector_for(source).reply(mention=top, text="Sorry Priya, we're on it.")
        assert len(server.requests_sent_to(path, "POST")) == 1


def test_reply_refused_by_graph_is_a_clear_error(source) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer(graph_routes()) as server:
        point_at(source, server)
        source_sync(source=source)
        server.add(
            "POST",
            "/v23.0/987654321012345_1122334455667788/comments",
            Reply(403, body=fixture("graph_error_permission.json")),
        )
        top = Mention.objects.get(external_id="987654321012345_1122334455667788")
        with pytest.raises(ConnectorError, match="Permissions error"):
            connector_for(source).reply(mention=top, text="hello")


def test_fixtures_are_valid_json() -> None:
    for path in FIXTURES.glob("*.json"):
        json.loads(path.read_bytes())


# -- property tests: any JSON, broken or not, ends as a mention, an ignored or skipped item or quarantined --

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
change_values = st.fixed_dictionaries(
    {},
    optional={
        "item": st.sampled_from(["comment", "status", "post", "reaction", "photo"]) | json_values,
        "verb": st.sampled_from(["add", "edited", "remove"]) | json_values,
        "message": st.text(max_size=30) | json_values,
        "post_id": st.text(max_size=12) | json_values,
        "comment_id": st.text(max_size=12) | json_values,
        "parent_id": json_values,
        "created_time": st.integers() | st.floats() | st.text(max_size=25) | json_values,
        "from": json_values,
    },
)


@given(value=change_values | json_values)
@hsettings(max_examples=300, deadline=None)
def test_parse_feed_change_only_raises_parse_errors(value: object) -> None:
    try:
        result = parse_feed_change(value, page_id=PAGE_ID)
    except ValueError:
        return
    except NoText:
        # Skipped only when there really is nothing written: never a message of the wrong type.
        assert isinstance(value, dict)
        message = value.get("message")
        assert message is None or (isinstance(message, str) and not message.strip())
        return
    assert result is None or result.external_id


@given(body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_signed_body_is_answered_200(source, client: Client, body: bytes) -> None:  # type: ignore[no-untyped-def]
    assert deliver(client, body, sign(body)).status_code == 200


def test_nul_characters_do_not_lose_the_delivery(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    payload = json.loads(fixture("webhook_feed_comment.json"))
    payload["entry"][0]["changes"][0]["value"]["message"] = "moodle\u0000 is down"
    body = json.dumps(payload).encode()
    assert deliver(client, body, sign(body)).json()["created"] == 1
    mention = Mention.objects.get(source=source)
    assert mention.text == "moodle is down" and "\x00" not in json.dumps(mention.raw)
    only_nul = body.replace(b"moodle\\u0000 is down", b"\\u0000").replace(b"1122334455667788", b"1")
    assert deliver(client, only_nul, sign(only_nul)).json()["quarantined"] == 1


@pytest.mark.usefixtures("rate_limit_window")
def test_an_address_guessing_signatures_is_slowed_down(source, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_WEBHOOK_FAILURES_PER_MINUTE = 5
    body = fixture("webhook_feed_comment.json")
    codes = [deliver(client, body, "sha256=" + f"{n:064x}").status_code for n in range(6)]
    assert codes == [403] * 5 + [429]
    other = client.post(
        "/sources/hooks/northgate-fb/",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(body),
        REMOTE_ADDR="203.0.113.9",
    )
    assert other.status_code == 200  # the platform, from another address, is not affected
    # Nor from the same address (behind a proxy every sender shares one): 30 forged deliveries used to lock
    # the platform's correctly signed ones out for a minute.
    assert deliver(client, body, sign(body)).status_code == 200
    assert deliver(client, body, "sha256=" + "0" * 64).status_code == 429


def test_messenger_entries_are_ignored_not_quarantined(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE_ID,
                    "time": 1795470000,
                    "messaging": [
                        {"sender": {"id": "1"}, "recipient": {"id": PAGE_ID}, "message": {"text": "hi"}}
                    ],
                },
                {"id": PAGE_ID, "time": 1795470001},
            ],
        }
    ).encode()
    response = deliver(client, body, sign(body))
    assert response.json() == {"created": 0, "duplicates": 0, "quarantined": 1, "ignored": 1}


def test_private_api_address_refused_without_the_allowance(source, settings) -> None:  # type: ignore[no-untyped-def]
    mention = MentionFactory(source=source, external_id="987654321012345_1122334455667788")
    with ReplayServer(graph_routes()) as server:
        settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
        with pytest.raises(
            SourceConfigError, match=r"api_base_url: refusing .*127\.0\.0\.1.*not a public address"
        ):
            source_create(
                kind="facebook",
                name="fb2",
                options={"page_id": "123", "page_access_token": "t", "api_base_url": server.url},
            )
        # Stored while allowed, or a name that resolved elsewhere then: every request is checked again.
        point_at(source, server)
        with pytest.raises(ConnectorError, match="not a public address"):
            source_sync(source=source)
        with pytest.raises(ConnectorError, match="not a public address"):
            connector_for(source).reply(mention=mention, text="Sorry Priya, we're on it.")
    assert server.requests == []  # the Page token went nowhere
    assert not Source.objects.filter(name="fb2").exists()
    source.refresh_from_db()
    assert "not a public address" in source.last_error


def test_new_comments_on_a_long_thread_are_read_first(source) -> None:  # type: ignore[no-untyped-def]
    """A post with more comments than `max_pages` pages hold: each pull must read the newest ones, not the
    same oldest pages again. `/{object-id}/comments` takes `order` chronological (oldest first, the
    default) or reverse_chronological, `filter=stream` for every level, and pages with
    `paging.cursors.after`, `paging.next` while more exist
    (https://developers.facebook.com/docs/graph-api/reference/object/comments/,
    https://developers.facebook.com/docs/graph-api/results)."""
    post = f"{PAGE_ID}_987654321012345"
    thread = [
        {
            "id": f"987654321012345_{1000 + n}",
            "message": f"still can't log in to Moodle ({n})",
            "created_time": f"2026-11-23T{18 + n // 60:02d}:{n % 60:02d}:00+0000",
            "from": {"name": f"Student {n}", "id": str(6000000000000000 + n)},
        }
        for n in range(150)
    ]

    def comments(request):  # type: ignore[no-untyped-def]
        order = request.query.get("order", ["chronological"])[0]
        ordered = thread if order == "chronological" else thread[::-1]
        start = int(request.query.get("after", ["0"])[0])
        limit = int(request.query["limit"][0])
        body: dict = {
            "data": ordered[start : start + limit],
            "paging": {"cursors": {"after": str(start + limit)}},
        }
        if start + limit < len(ordered):
            body["paging"]["next"] = f"https://graph.facebook.com/v23.0/{post}/comments?after={start + limit}"
        return Reply(200, body=body)

    feed = json.loads(fixture("graph_feed_page1.json"))
    feed["data"] = feed["data"][:1]  # the Page's own post, whose comments are the thread
    del feed["paging"]["next"]
    routes = {
        ("GET", f"/v23.0/{PAGE_ID}/feed"): [Reply(200, body=feed)],
        ("GET", f"/v23.0/{post}/comments"): [comments],
    }
    source.options["max_pages"] = 1
    with ReplayServer(routes) as server:
        point_at(source, server)
        first = source_sync(source=source)
        thread.append(
            {
                "id": "987654321012345_9999",
                "message": "and now the VPN is down too",
                "created_time": "2026-11-23T22:00:00+0000",
                "from": {"name": "Late Comer", "id": "6000000000009999"},
            }
        )
        second = source_sync(source=source)
    assert first.created == 100 and first.quarantined == 0
    assert (second.created, second.duplicates) == (1, 99)
    assert Mention.objects.filter(source=source, external_id="987654321012345_9999").exists()


def test_sticker_and_photo_comments_are_skipped_not_quarantined_on_every_pull(source) -> None:  # type: ignore[no-untyped-def]
    """A sticker or photo comment has `message` "" and its picture as `attachment` (Graph API Comment,
    StoryAttachment: https://developers.facebook.com/docs/graph-api/reference/comment/,
    https://developers.facebook.com/docs/graph-api/reference/story-attachment/). It is not bad input: each
    pull inside the comment window reads it again, and it must be skipped (counted), never quarantined,
    while the text comment beside it is stored once."""
    post = f"{PAGE_ID}_987654321012345"
    feed = json.loads(fixture("graph_feed_page1.json"))
    feed["data"] = feed["data"][:1]  # the Page's own post, whose comments these are
    del feed["paging"]["next"]
    routes = {
        ("GET", f"/v23.0/{PAGE_ID}/feed"): [Reply(200, body=feed)],
        ("GET", f"/v23.0/{post}/comments"): [Reply(200, body=fixture("graph_comments_sticker_photo.json"))],
    }
    with ReplayServer(routes) as server:
        point_at(source, server)
        first = source_sync(source=source)
        second = source_sync(source=source)
    assert (first.created, first.skipped, first.quarantined) == (1, 2, 0)
    assert (second.created, second.duplicates, second.skipped, second.quarantined) == (0, 1, 2, 0)
    assert not Quarantine.objects.filter(source=source).exists()
    assert list(Mention.objects.filter(source=source).values_list("external_id", flat=True)) == [
        "987654321012345_1122334455667902"
    ]
    fields = server.requests_to(f"/v23.0/{post}/comments")[0].query["fields"][0]
    assert "attachment{type,description}" in fields


def test_a_wordless_comment_with_an_attachment_description_is_read_by_it() -> None:
    from servicepulse.sources.connectors.facebook.parse import parse_graph_comment

    node = json.loads(fixture("graph_comments_sticker_photo.json"))["data"][1]
    node["attachment"]["description"] = "Error 500 on the Moodle upload page"
    mention = parse_graph_comment(node, post_id=f"{PAGE_ID}_987654321012345", page_id=PAGE_ID)
    assert mention is not None and mention.text == "Error 500 on the Moodle upload page"
