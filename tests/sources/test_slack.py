"""Slack connector: the Events API receiver through Django's test client (signing secret, stale timestamps,
url_verification, retries), backfill and threaded replies through slack_sdk's real WebClient against a
loopback replay of the Web API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client
from freezegun import freeze_time
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.connectors.slack.parse import parse_message
from servicepulse.sources.models import Source
from servicepulse.sources.registry import ConnectorError, connector_for
from servicepulse.sources.services import SourceConfigError, source_create, source_sync
from tests.factories import MentionFactory
from tests.replay import ReplayServer, Reply

FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/slack/fixtures"
# A day after the newest message of the fixtures (2026-11-23T21:41:40Z). The first pull reads back
# `backfill_days` (7) from the clock: on the real clock, from 2026-11-30 the fixtures' messages were older than
# that, and the backfill tests failed whenever they ran.
FIXTURES_NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def source(db):  # type: ignore[no-untyped-def]
    return source_create(
        kind="slack",
        name="staff-slack",
        options={
            "channels": "C024BE91L",
            "bot_token": "xoxb-test-token",
            "signing_secret": SIGNING_SECRET,
            "workspace_url": "https://northgate.slack.com",
            "api_base_url": "http://127.0.0.1:1/api/",
        },
    )


def sign(body: bytes, stamp: str, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + stamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def deliver(
    client: Client, body: bytes, *, stamp: str | None = None, signature: str | None = "auto", **extra
):  # type: ignore[no-untyped-def]
    stamp = stamp or str(int(time.time()))
    headers = {"HTTP_X_SLACK_REQUEST_TIMESTAMP": stamp, **extra}
    if signature == "auto":
        signature = sign(body, stamp)
    if signature is not None:
        headers["HTTP_X_SLACK_SIGNATURE"] = signature
    return client.post("/sources/hooks/staff-slack/", data=body, content_type="application/json", **headers)


# -- Events API ----------------------------------------------------------------------------------------------


def test_url_verification_answers_the_challenge(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    response = deliver(client, fixture("url_verification.json"))
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_url_verification_is_signed_too(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    assert deliver(client, fixture("url_verification.json"), signature="v0=" + "0" * 64).status_code == 403


def test_message_and_thread_reply_are_stored_once_across_retries(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    first = deliver(client, fixture("event_message.json"))
    retried = deliver(
        client,
        fixture("event_message.json"),
        HTTP_X_SLACK_RETRY_NUM="1",
        HTTP_X_SLACK_RETRY_REASON="http_timeout",
    )
    reply = deliver(client, fixture("event_thread_reply.json"))
    assert first.status_code == retried.status_code == reply.status_code == 200
    assert first.json()["created"] == 1 and retried.json()["duplicates"] == 1
    root = Mention.objects.get(external_id="C024BE91L:1795470100.000200")
    child = Mention.objects.get(external_id="C024BE91L:1795470160.000300")
    assert root.author_id == "U061F7AUR" and "SSO just loops" in root.text
    assert root.url == "https://northgate.slack.com/archives/C024BE91L/p1795470100000200"
    assert child.in_reply_to == root.external_id and child.thread_id == root.external_id
    assert root.created_at.timestamp() == pytest.approx(1795470100.0002)


@pytest.mark.parametrize(
    "name", ["event_bot_message.json", "event_message_changed.json", "event_other_channel.json"]
)
def test_bot_edit_and_unwatched_channel_events_are_ignored(source, client: Client, name: str) -> None:  # type: ignore[no-untyped-def]
    response = deliver(client, fixture(name))
    assert response.status_code == 200 and response.json()["ignored"] == 1
    assert Mention.objects.count() == 0


def test_broken_message_is_quarantined_with_200(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    response = deliver(client, fixture("event_empty_text.json"))
    assert response.status_code == 200 and response.json()["quarantined"] == 1
    kept = Quarantine.objects.get(source=source)
    assert kept.reason == "text is empty" and kept.position == "event Ev08MFMKHB"


def test_malformed_signed_body_is_quarantined(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    body = fixture("event_message.json")[:120]
    response = deliver(client, body)
    assert response.status_code == 200 and response.json()["quarantined"] == 1


@pytest.mark.parametrize(
    "signature",
    [None, "v0=" + "0" * 64, "v1=abc", "sha256=" + "0" * 64],
)
def test_bad_signatures_are_403(source, client: Client, signature: str | None) -> None:  # type: ignore[no-untyped-def]
    assert deliver(client, fixture("event_message.json"), signature=signature).status_code == 403
    assert Mention.objects.count() == 0


def test_signature_with_another_secret_is_403(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    body = fixture("event_message.json")
    stamp = str(int(time.time()))
    assert deliver(client, body, stamp=stamp, signature=sign(body, stamp, secret="other")).status_code == 403


@pytest.mark.parametrize("age", [301, 3600, -400])
def test_stale_or_future_timestamps_are_403_even_when_correctly_signed(
    source, client: Client, age: int
) -> None:  # type: ignore[no-untyped-def]
    stamp = str(int(time.time()) - age)
    response = deliver(client, fixture("event_message.json"), stamp=stamp)
    assert response.status_code == 403 and "five minutes" in response.json()["error"]


def test_missing_timestamp_is_403(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    body = fixture("event_message.json")
    response = client.post(
        "/sources/hooks/staff-slack/",
        data=body,
        content_type="application/json",
        HTTP_X_SLACK_SIGNATURE=sign(body, ""),
    )
    assert response.status_code == 403


def test_oversized_body_is_413(source, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_WEBHOOK_MAX_BYTES = 256
    assert deliver(client, fixture("event_message.json")).status_code == 413


# -- Web API: backfill and replies ---------------------------------------------------------------------------


def point_at(source, server: ReplayServer) -> None:  # type: ignore[no-untyped-def]
    source.options["api_base_url"] = server.url + "/api/"
    source.save()


def params(request) -> dict:  # type: ignore[no-untyped-def]
    """slack_sdk sends Web API arguments in the query string or a form body, depending on the method."""
    return {**request.query, **(request.form() if request.body else {})}


def history(request):  # type: ignore[no-untyped-def]
    assert request.headers["Authorization"] == "Bearer xoxb-test-token"
    query = params(request)
    if query.get("cursor") == ["bmV4dF90czoxNzk1NDY5MDAw"]:
        return Reply(200, body=fixture("conversations_history_page2.json"))
    if query.get("oldest") == ["1795470100.000200"]:
        return Reply(200, body=fixture("conversations_history_empty.json"))
    return Reply(200, body=fixture("conversations_history_page1.json"))


@freeze_time(FIXTURES_NOW, tick=True)
def test_backfill_pages_through_history(source) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer({("POST", "/api/conversations.history"): [history]}) as server:
        point_at(source, server)
        first = source_sync(source=source)
        second = source_sync(source=source)
    assert (first.created, first.quarantined) == (
        2,
        1,
    )  # a join message is skipped, a non-string text kept aside
    assert second.created == 0
    source.refresh_from_db()
    assert source.cursor == {"latest_ts": {"C024BE91L": "1795470100.000200"}}
    assert params(server.requests[-1])["oldest"] == ["1795470100.000200"]
    assert "text must be a string" in Quarantine.objects.get(source=source).reason


def test_backfill_429_carries_retry_after(source) -> None:  # type: ignore[no-untyped-def]
    routes = {
        ("POST", "/api/conversations.history"): [
            Reply(429, {"Retry-After": "30"}, fixture("error_ratelimited.json")),
            history,
        ]
    }
    with ReplayServer(routes) as server:
        point_at(source, server)
        with pytest.raises(ConnectorError, match="rate limit") as caught:
            source_sync(source=source)
        assert caught.value.retry_after == 30
        assert source_sync(source=source).created == 2


@pytest.mark.parametrize(
    "reply",
    [
        Reply(500, body=b"<html>oops</html>", headers={"Content-Type": "text/html"}),
        Reply(200, body=fixture("conversations_history_page1.json"), truncate_at=100),
        Reply(200, body=b'{"ok": true, "messages": "nope"}'),
    ],
    ids=["server-error", "truncated", "wrong-shape"],
)
def test_backfill_failures_are_connector_errors(source, reply: Reply) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer({("POST", "/api/conversations.history"): [reply]}) as server:
        point_at(source, server)
        with pytest.raises(ConnectorError):
            source_sync(source=source)
    source.refresh_from_db()
    assert source.cursor == {} and source.last_error


def test_reply_goes_into_the_thread(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    deliver(client, fixture("event_thread_reply.json"))
    child = Mention.objects.get(external_id="C024BE91L:1795470160.000300")
    with ReplayServer(
        {("POST", "/api/chat.postMessage"): [Reply(200, body=fixture("chat_postMessage_ok.json"))]}
    ) as server:
        point_at(source, server)
        result = connector_for(source).reply(
            mention=child, text="Thanks for flagging, we're investigating SSO now."
        )
    sent = server.requests[0].json()
    assert sent == {
        "channel": "C024BE91L",
        "text": "Thanks for flagging, we're investigating SSO now.",
        "thread_ts": "1795470100.000200",
    }
    assert result.external_id == "C024BE91L:1795470500.000900"
    assert result.url.startswith("https://northgate.slack.com/archives/C024BE91L/p1795470500000900")


def test_reply_refused_is_a_clear_error(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    deliver(client, fixture("event_message.json"))
    root = Mention.objects.get(external_id="C024BE91L:1795470100.000200")
    with ReplayServer(
        {("POST", "/api/chat.postMessage"): [Reply(200, body=fixture("error_not_in_channel.json"))]}
    ) as server:
        point_at(source, server)
        with pytest.raises(ConnectorError, match="not_in_channel"):
            connector_for(source).reply(mention=root, text="hello")


# -- property tests ------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "type": st.just("message") | json_values,
        "subtype": st.sampled_from([None, "thread_broadcast", "bot_message", "message_changed"])
        | json_values,
        "channel": st.text(max_size=12) | json_values,
        "user": st.text(max_size=12) | json_values,
        "text": st.text(max_size=30) | json_values,
        "ts": st.from_regex(r"\A[0-9]{1,12}\.[0-9]{6}\Z") | st.text(max_size=20) | json_values,
        "thread_ts": st.text(max_size=20) | json_values,
        "bot_id": json_values,
    },
)


@given(message=messages | json_values)
@hsettings(max_examples=300, deadline=None)
def test_parse_message_only_raises_parse_errors(message: object) -> None:
    try:
        result = parse_message(message, channel="C1")
    except ValueError:
        return
    assert result is None or result.external_id.startswith(result.raw["channel"])


@given(body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_signed_fresh_body_is_answered_2xx(source, client: Client, body: bytes) -> None:  # type: ignore[no-untyped-def]
    assert deliver(client, body).status_code in (
        200,
        400,
    )  # 400 only for url_verification without a challenge


def test_private_api_address_refused_without_the_allowance(source, settings) -> None:  # type: ignore[no-untyped-def]
    mention = MentionFactory(source=source, external_id="C024BE91L:1795470100.000200")
    routes = {
        ("POST", "/api/conversations.history"): [history],
        ("POST", "/api/chat.postMessage"): [Reply(200, body=fixture("chat_postMessage_ok.json"))],
    }
    with ReplayServer(routes) as server:
        settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
        with pytest.raises(
            SourceConfigError, match=r"api_base_url: refusing .*127\.0\.0\.1.*not a public address"
        ):
            source_create(
                kind="slack",
                name="slack2",
                options={"channels": "C024BE91L", "bot_token": "t", "api_base_url": server.url + "/api/"},
            )
        # Stored while allowed, or a name that resolved elsewhere then: every request is checked again.
        point_at(source, server)
        with pytest.raises(ConnectorError, match="not a public address"):
            source_sync(source=source)
        with pytest.raises(ConnectorError, match="not a public address"):
            connector_for(source).reply(mention=mention, text="Thanks, we're on it.")
    assert server.requests == []  # the bot token went nowhere
    assert not Source.objects.filter(name="slack2").exists()


@freeze_time(FIXTURES_NOW, tick=True)
def test_more_new_messages_than_a_pull_reads_are_read_by_the_next_pulls(source) -> None:  # type: ignore[no-untyped-def]
    """A busy evening brings more new messages than `max_pages` pages hold: the next pulls read on below the
    oldest message read (`latest`) instead of the cursor jumping to the newest and the messages between never
    being read. `conversations.history` answers newest first between `oldest` and `latest` (both exclusive
    unless `inclusive`), at most `limit` a page ("fewer than the requested number of items may be returned"),
    with `has_more` and `response_metadata.next_cursor` while more remain
    (https://docs.slack.dev/reference/methods/conversations.history)."""
    template = json.loads(fixture("conversations_history_page2.json"))["messages"][0]
    channel: list[dict] = []

    def add_messages(first: int, last: int) -> None:
        for n in range(first, last + 1):
            channel.append({**template, "ts": f"{1795400000 + n * 10}.000100", "text": f"VPN down ({n})"})

    def paged(request):  # type: ignore[no-untyped-def]
        query = params(request)
        low = float(query.get("oldest", ["0"])[0])
        high = float(query.get("latest", ["1e12"])[0])
        offset = int(query.get("cursor", ["0"])[0] or 0)
        size = min(int(query["limit"][0]), 20)
        found = sorted((m for m in channel if low < float(m["ts"]) < high), key=lambda m: -float(m["ts"]))
        page = found[offset : offset + size]
        more = offset + size < len(found)
        body = {
            "ok": True,
            "messages": page,
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": str(offset + size) if more else ""},
        }
        return Reply(200, body=body)

    add_messages(1, 3)
    source.options["max_pages"] = 2
    with ReplayServer({("POST", "/api/conversations.history"): [paged]}) as server:
        point_at(source, server)
        assert source_sync(source=source).created == 3
        add_messages(4, 103)  # 100 new messages: five pages, the pulls read two at a time
        created = [source_sync(source=source).created for _ in range(4)]
    assert created == [40, 40, 20, 0]
    assert Mention.objects.filter(source=source).count() == 103
    source.refresh_from_db()
    assert source.cursor == {"latest_ts": {"C024BE91L": channel[-1]["ts"]}}
