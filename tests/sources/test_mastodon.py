"""The Mastodon connector: Mastodon.py (REST) and `websockets` (streaming) against loopback replay servers."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.registry import CannotReply, ConnectorError, connector_for
from servicepulse.sources.services import SourceConfigError, source_create, source_sync
from tests.replay import DROP, RecordedRequest, ReplayServer, Reply, WebSocketReplayServer, WsConnection

FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/mastodon/fixtures"
pytestmark = pytest.mark.django_db


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def paged(items: list[dict[str, Any]]) -> Any:
    """Answer like Mastodon: with min_id, the page just after it; newest first; `limit` items at most."""

    def answer(request: RecordedRequest) -> Reply:
        limit = int(request.query.get("limit", ["20"])[0])
        ordered = sorted(items, key=lambda item: int(item["id"]))
        if "min_id" in request.query:
            floor = int(request.query["min_id"][0])
            page = [item for item in ordered if int(item["id"]) > floor][:limit]
        else:
            page = ordered[-limit:]
        return Reply(200, body=list(reversed(page)))

    return answer


def mastodon_server(routes: dict[tuple[str, str], list[Any]]) -> ReplayServer:
    """A replay server with the instance document Mastodon.py reads for the API version."""
    return ReplayServer({("GET", "/api/v2/instance/"): [Reply(200, body=load("instance_v2.json"))], **routes})


def mastodon_source(url: str, **options: str) -> Any:
    return source_create(kind="mastodon", name="masto", options={"api_base_url": url, **options})


def stored_ids(source: Any) -> list[str]:
    return sorted(Mention.objects.filter(source=source).values_list("external_id", flat=True))


def test_hashtag_pull_pages_forward_from_cursor() -> None:
    statuses = load("timeline_tag_vle.json")
    with mastodon_server({("GET", "/api/v1/timelines/tag/vle"): [paged(statuses)]}) as server:
        source = mastodon_source(server.url, hashtags="vle")
        first = source_sync(source=source)
        again = source_sync(source=source)
        newer = dict(statuses[0], id="113500000000000150", created_at="2026-11-25T22:00:00.000Z")
        statuses.append(newer)
        later = source_sync(source=source)
    assert (first.created, first.duplicates, first.quarantined) == (3, 0, 0)  # the boost is skipped
    assert (again.created, later.created) == (0, 1)
    source.refresh_from_db()
    assert source.cursor == {"tag:vle": "113500000000000150"}
    queries = [r.query.get("min_id") for r in server.requests_to("/api/v1/timelines/tag/vle")]
    assert queries[0] is None and queries[1] == ["113500000000000104"]
    mention = Mention.objects.get(source=source, external_id="113500000000000101")
    assert mention.text == "Is #moodle down for anyone else? Upload keeps failing 😩"
    assert mention.author == "amy_h" and mention.author_id == "109311111111111111"
    assert mention.url == "https://mastodon.northfield.example/@amy_h/113500000000000101"
    assert mention.created_at.isoformat() == "2026-11-25T21:02:11+00:00" and mention.language == "en"
    warned = Mention.objects.get(source=source, external_id="113500000000000104")
    assert warned.text.startswith("deadline stress\n\nAssignment page finally loads again #vle")


def test_malformed_statuses_quarantined_rest_kept() -> None:
    with mastodon_server(
        {("GET", "/api/v1/timelines/tag/vle"): [Reply(200, body=load("timeline_tag_vle_malformed.json"))]}
    ) as server:
        source = mastodon_source(server.url, hashtags="vle")
        result = source_sync(source=source)
    assert (result.created, result.quarantined) == (1, 2)
    reasons = sorted(Quarantine.objects.filter(source=source).values_list("reason", flat=True))
    assert reasons[0] == "status has no account object"
    assert "created_at" in reasons[1]  # Mastodon.py drops the unparsable time; either way it is named


def test_truncated_page_fails_cleanly_and_is_fetched_again() -> None:
    page = json.dumps(load("timeline_tag_vle.json")).encode()
    routes = {
        ("GET", "/api/v1/timelines/tag/vle"): [
            Reply(200, {"Content-Type": "application/json"}, page[: len(page) // 2]),  # the body is cut short
            paged(load("timeline_tag_vle.json")),
        ]
    }
    with mastodon_server(routes) as server:
        source = mastodon_source(server.url, hashtags="vle")
        with pytest.raises(ConnectorError):
            source_sync(source=source)
        source.refresh_from_db()
        assert source.cursor == {} and not stored_ids(source)  # nothing half-stored, the cursor did not move
        assert source_sync(source=source).created == 3


def test_mentions_keywords_and_auth() -> None:
    routes = {
        ("GET", "/api/v1/notifications"): [paged(load("notifications_mention.json"))],
        ("GET", "/api/v2/search"): [Reply(200, body=load("search_v2_statuses.json"))],
    }
    with mastodon_server(routes) as server:
        source = mastodon_source(server.url, access_token="tok-123", keywords="lecture capture")
        result = source_sync(source=source)
    assert result.created == 3  # two mentions (the favourite is skipped) and one search hit
    notifications = server.requests_to("/api/v1/notifications")[0]
    assert notifications.headers["Authorization"] == "Bearer tok-123"
    assert notifications.query["types[]"] == ["mention"]
    search = server.requests_to("/api/v2/search")[0]
    assert search.query["q"] == ["lecture capture"] and search.query["type"] == ["statuses"]
    assert stored_ids(source) == ["113500000000000201", "113500000000000202", "113500000000000301"]


def test_search_refused_keeps_hashtags() -> None:
    routes = {
        ("GET", "/api/v1/timelines/tag/vle"): [paged(load("timeline_tag_vle.json"))],
        ("GET", "/api/v2/search"): [Reply(403, body={"error": "Search is not enabled on this server"})],
    }
    with mastodon_server(routes) as server:
        source = mastodon_source(
            server.url, hashtags="vle", keywords="moodle", access_token="t", mentions="false"
        )
        with pytest.raises(ConnectorError, match="Search is not enabled") as failure:
            source_sync(source=source)
    assert failure.value.result is not None and failure.value.result.created == 3
    assert len(stored_ids(source)) == 3


def test_rate_limit_and_server_error() -> None:
    routes = {
        ("GET", "/api/v1/timelines/tag/vle"): [
            Reply(429, {"Retry-After": "30", "X-RateLimit-Remaining": "0"}, {"error": "Too many requests"}),
            Reply(500, body={"error": "We're sorry, but something went wrong"}),
            paged(load("timeline_tag_vle.json")),
        ]
    }
    with mastodon_server(routes) as server:
        source = mastodon_source(server.url, hashtags="vle")
        with pytest.raises(ConnectorError, match="rate limited") as limited:
            source_sync(source=source)
        with pytest.raises(ConnectorError, match="HTTP 500"):
            source_sync(source=source)
        recovered = source_sync(source=source)
    assert limited.value.retry_after == 30
    assert recovered.created == 3
    source.refresh_from_db()
    assert source.consecutive_failures == 0 and "HTTP 500" in source.last_error


def test_reply_posts_as_the_account() -> None:
    routes = {
        ("GET", "/api/v1/notifications"): [paged(load("notifications_mention.json"))],
        ("POST", "/api/v1/statuses"): [Reply(200, body=load("status_post_reply.json"))],
    }
    with mastodon_server(routes) as server:
        source = mastodon_source(server.url, access_token="tok")
        source_sync(source=source)
        mention = Mention.objects.get(source=source, external_id="113500000000000201")
        result = connector_for(source).reply(
            mention=mention, text="We are on it: https://status.northfield.example"
        )
    assert result.external_id == "113500000000000900"
    assert result.url.endswith("/113500000000000900")
    posted = server.requests_to("/api/v1/statuses", "POST")[0]
    body = (
        posted.json()
        if posted.headers.get("Content-Type", "").startswith("application/json")
        else {k: v[0] for k, v in posted.form().items()}
    )
    assert body["status"] == "@amy_h We are on it: https://status.northfield.example"
    assert str(body["in_reply_to_id"]) == "113500000000000201" and body["visibility"] == "unlisted"


def test_reply_without_token_cannot_reply() -> None:
    source = mastodon_source("https://mastodon.example", hashtags="vle")
    mention = Mention.objects.create(
        source=source, external_id="1", text="x", created_at="2026-11-25T21:00:00+00:00"
    )
    with pytest.raises(CannotReply):
        connector_for(source).reply(mention=mention, text="hi")


def test_stream_with_drop_reconnect_and_catch_up() -> None:
    """Live events are stored as they come; the connection drops; a post made while disconnected comes back
    through the REST catch-up from the cursor; replays after reconnecting add nothing twice."""
    statuses = load("timeline_tag_vle.json")
    during_drop = dict(statuses[0], id="113500000000000405", created_at="2026-11-25T23:25:00.000Z")
    messages = (FIXTURES / "streaming_messages.jsonl").read_text().splitlines()

    def live(conn: WsConnection) -> Iterator[Any]:
        if len(ws.connections) == 1:
            yield from messages
            statuses.append(during_drop)  # posted while we are disconnected
            yield DROP
        else:
            yield from messages[:1]  # the server replays the last event again after the reconnect

    routes = {
        ("GET", "/api/v1/timelines/tag/vle"): [paged(statuses)],
        ("GET", "/api/v1/notifications"): [paged(load("notifications_mention.json"))],
    }
    with mastodon_server(routes) as server, WebSocketReplayServer(live, read_first=0.3) as ws:
        source = mastodon_source(
            server.url, hashtags="vle", access_token="tok", streaming="true", streaming_url=ws.url
        )
        connector = connector_for(source)
        stop = threading.Event()
        connector.stream(stop=stop, max_reconnects=1)
    assert stored_ids(source) == [
        "113500000000000101", "113500000000000102", "113500000000000104",  # REST on first connect
        "113500000000000201", "113500000000000202",  # mentions via REST
        "113500000000000401", "113500000000000402", "113500000000000404",  # live
        "113500000000000405",  # posted during the drop, caught up after reconnecting
    ]  # fmt: skip
    [bad] = Quarantine.objects.filter(source=source)
    assert "payload is not JSON" in bad.reason
    assert len(ws.connections) == 2
    subscribed = [json.loads(m) for m in ws.connections[0].received]
    assert {"type": "subscribe", "stream": "hashtag", "tag": "vle"} in subscribed
    assert {"type": "subscribe", "stream": "user:notification"} in subscribed
    assert ws.connections[0].headers["Authorization"] == "Bearer tok"
    assert "access_token" not in ws.connections[0].query  # kept out of URLs (and so out of access logs)
    tag_queries = [r.query.get("min_id") for r in server.requests_to("/api/v1/timelines/tag/vle")]
    assert tag_queries[1] == ["113500000000000404"]  # catch-up starts from the last live post
    source.refresh_from_db()
    assert source.cursor["tag:vle"] == "113500000000000405"


def test_stream_unreachable_falls_back_to_polling() -> None:
    with mastodon_server(
        {("GET", "/api/v1/timelines/tag/vle"): [paged(load("timeline_tag_vle.json"))]}
    ) as server:
        source = mastodon_source(
            server.url, hashtags="vle", streaming="true", streaming_url="ws://127.0.0.1:9"
        )
        connector_for(source).stream(stop=threading.Event(), max_reconnects=1)
    assert len(server.requests_to("/api/v1/timelines/tag/vle")) == 2  # polled on each attempt
    assert len(stored_ids(source)) == 3
    source.refresh_from_db()
    assert "streaming" in source.last_error


def test_streaming_url_from_the_instance_document() -> None:
    instance = load("instance_v2.json")
    with mastodon_server({}) as server:
        client = connector_for(mastodon_source(server.url, hashtags="vle")).client()
        assert client.streaming_url() == "wss://mastodon.northfield.example/api/v1/streaming"
        assert client.streaming_url("wss://streaming.example") == "wss://streaming.example/api/v1/streaming"
    instance["configuration"]["urls"]["streaming"] = None
    with ReplayServer({("GET", "/api/v2/instance/"): [Reply(200, body=instance)]}) as server:
        plain = source_create(
            kind="mastodon", name="plain", options={"api_base_url": server.url, "hashtags": "x"}
        )
        client = connector_for(plain).client()  # a server without a separate streaming host
        assert client.streaming_url() == f"ws://127.0.0.1:{server.port}/api/v1/streaming"


def test_private_server_refused_in_production(settings: Any) -> None:
    with mastodon_server(
        {("GET", "/api/v1/timelines/tag/vle"): [paged(load("timeline_tag_vle.json"))]}
    ) as server:
        source = mastodon_source(server.url, hashtags="vle")  # added while allowed
        settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
        with pytest.raises(SourceConfigError, match=r"option api_base_url: refusing .*not a public address"):
            source_create(
                kind="mastodon", name="again", options={"api_base_url": server.url, "hashtags": "vle"}
            )
        with pytest.raises(ConnectorError, match="not a public address"):
            source_sync(source=source)
    assert server.requests == []


def test_streaming_sources_not_scheduled() -> None:
    from servicepulse.sources.services import sources_due

    polled = mastodon_source("https://a.example", hashtags="vle")
    streamed = source_create(
        kind="mastodon",
        name="live",
        options={"api_base_url": "https://a.example", "hashtags": "vle", "streaming": "true"},
    )
    due = sources_due()
    assert polled.id in due and streamed.id not in due


def test_keyword_search_keeps_more_new_matches_than_one_page() -> None:
    """Search answers the newest matches first even with `min_id` (it orders by id descending and cuts to
    `limit`; `min_id` only filters), so after a busy spell more than 40 new matches must be walked down
    with `max_id`, not cut to the newest 40 with the cursor jumping over the rest
    (https://docs.joinmastodon.org/methods/search/#v2; mastodon/mastodon
    app/services/statuses_search_service.rb, `order(id: { order: :desc })`)."""
    template = load("search_v2_statuses.json")["statuses"][0]
    statuses = [template]

    def search(request: RecordedRequest) -> Reply:
        limit = int(request.query.get("limit", ["20"])[0])
        low = int(request.query.get("min_id", ["0"])[0])
        high = int(request.query.get("max_id", [str(10**30)])[0])
        matches = sorted((s for s in statuses if low < int(s["id"]) < high), key=lambda s: -int(s["id"]))
        return Reply(200, body={"accounts": [], "statuses": matches[:limit], "hashtags": []})

    with mastodon_server({("GET", "/api/v2/search"): [search]}) as server:
        source = mastodon_source(server.url, keywords="lecture capture", access_token="t", mentions="false")
        assert source_sync(source=source).created == 1
        for n in range(60):
            status = json.loads(json.dumps(template))
            status.update(
                id=str(113500000000001000 + n),
                content=f"<p>lecture capture failed again in room {n}</p>",
                url=f"https://mastodon.ac.uk/@someone/{113500000000001000 + n}",
            )
            statuses.append(status)
        second = source_sync(source=source)
        third = source_sync(source=source)
    assert (second.created, second.duplicates) == (60, 0)
    assert (third.created, third.duplicates) == (0, 0)
    assert len(stored_ids(source)) == 61
    source.refresh_from_db()
    assert source.cursor == {"search:lecture capture": "113500000000001059"}


def test_keyword_search_goes_on_working_after_the_first_pull() -> None:
    """The second pull sends `min_id` to search (supported since Mastodon 2.8.0,
    https://docs.joinmastodon.org/methods/search/#v2): it must reach the server rather than being refused
    by the client library's own version check, and the source stays healthy."""
    found = load("search_v2_statuses.json")

    def search(request: RecordedRequest) -> Reply:
        low = int(request.query.get("min_id", ["0"])[0])
        return Reply(200, body={**found, "statuses": [s for s in found["statuses"] if int(s["id"]) > low]})

    with mastodon_server({("GET", "/api/v2/search"): [search]}) as server:
        source = mastodon_source(server.url, keywords="lecture capture", access_token="t", mentions="false")
        assert source_sync(source=source).created == 1
        again = source_sync(source=source)
    assert (again.created, again.duplicates) == (0, 0)
    assert server.requests_to("/api/v2/search")[1].query["min_id"] == ["113500000000000301"]
    source.refresh_from_db()
    assert source.consecutive_failures == 0 and not source.last_error


def test_an_edit_streamed_as_status_update_replaces_the_stored_text() -> None:
    """Mastodon streams an edit as `status.update` with the whole Status, as it now reads, as a JSON string
    payload (https://docs.joinmastodon.org/methods/streaming/#events; `edited_at` set:
    https://docs.joinmastodon.org/entities/Status/#edited_at). The stored post takes the new text, once."""
    messages = (FIXTURES / "streaming_messages.jsonl").read_text().splitlines()
    first = json.loads(messages[0])
    status = json.loads(first["payload"])
    edited = {
        **status,
        "content": "<p>Moodle is back, but quiz submissions still time out #vle</p>",
        "edited_at": "2026-11-25T23:40:00.000Z",
    }
    update = json.dumps({**first, "event": "status.update", "payload": json.dumps(edited)})
    routes = {("GET", "/api/v1/timelines/tag/vle"): [Reply(200, body=[])]}

    def live(conn: WsConnection) -> Iterator[str]:
        yield from [messages[0], update, update]
        time.sleep(1.0)  # open until the client has subscribed and read them, however slow the machine

    with mastodon_server(routes) as server, WebSocketReplayServer(live) as ws:
        source = mastodon_source(server.url, hashtags="vle", streaming="true", streaming_url=ws.url)
        connector_for(source).stream(stop=threading.Event(), max_reconnects=0)
    mention = Mention.objects.get(source=source, external_id=status["id"])
    assert mention.text == "Moodle is back, but quiz submissions still time out #vle"
    assert mention.raw["edited_at"] == "2026-11-25T23:40:00.000Z"
    assert Mention.objects.filter(source=source).count() == 1
    assert not Quarantine.objects.filter(source=source).exists()


def test_a_stored_post_read_again_edited_over_rest_takes_the_new_text() -> None:
    """A status stored from the hashtag feed, edited, then found by a keyword search: REST gives it with
    `edited_at` and its new `content` (https://docs.joinmastodon.org/entities/Status/#edited_at); the
    stored post takes the new text instead of the edit being dropped as a duplicate."""
    status = load("timeline_tag_vle.json")[0]
    edited = {**status, "spoiler_text": "", "content": "<p>lecture capture is down in every room #vle</p>"}
    edited["edited_at"] = "2026-11-25T23:50:00.000Z"
    routes = {
        ("GET", "/api/v1/timelines/tag/vle"): [Reply(200, body=[status])],
        ("GET", "/api/v2/search"): [Reply(200, body={"accounts": [], "statuses": [edited], "hashtags": []})],
    }
    with mastodon_server(routes) as server:
        source = mastodon_source(
            server.url, hashtags="vle", keywords="lecture capture", access_token="t", mentions="false"
        )
        result = source_sync(source=source)
    assert (result.created, result.duplicates) == (1, 1)
    assert Mention.objects.get(source=source).text == "lecture capture is down in every room #vle"


class ClosingFirstServer:
    """A WebSocket server on 127.0.0.1 written on a bare socket, to close deterministically before the client
    subscribes: the first connection gets the handshake and a close frame in one write (so the client
    sees the close before it can send); later ones get the handshake, `messages` and a close frame."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/api/v1/streaming"

    def __enter__(self) -> ClosingFirstServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join(5)
        self._listener.close()

    @staticmethod
    def _frame(opcode: int, payload: bytes) -> bytes:
        size = len(payload)
        if size < 126:
            head = bytes([0x80 | opcode, size])
        elif size < 65536:
            head = bytes([0x80 | opcode, 126]) + struct.pack("!H", size)
        else:
            head = bytes([0x80 | opcode, 127]) + struct.pack("!Q", size)
        return head + payload

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(4096)
                key = re.search(rb"(?i)sec-websocket-key:\s*(\S+)", request).group(1)  # type: ignore[union-attr]
                accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())  # noqa: S324 (the RFC's)
                reply = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                reply += b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
                self.connections += 1
                conn.settimeout(0.5)
                if self.connections > 1:
                    conn.sendall(reply + b"".join(self._frame(0x1, m.encode()) for m in self.messages))
                    self._drain(conn)  # the subscriptions
                    reply = b""
                conn.sendall(reply + self._frame(0x8, struct.pack("!H", 1000)))
                self._drain(conn)  # the client's close, before ours: no RST

    @staticmethod
    def _drain(conn: socket.socket) -> None:
        try:
            while conn.recv(4096):
                pass
        except OSError:  # quiet for half a second
            pass


WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def test_stream_closed_before_subscribing_reconnects() -> None:
    """A server that closes right after the handshake (before the subscriptions go out) is a disconnect like
    any other: the connector backs off and reconnects, and the next connection's posts are stored."""
    messages = (FIXTURES / "streaming_messages.jsonl").read_text().splitlines()
    routes = {
        ("GET", "/api/v1/timelines/tag/vle"): [Reply(200, body=[])],
        ("GET", "/api/v1/notifications"): [Reply(200, body=[])],
    }
    with mastodon_server(routes) as server, ClosingFirstServer(messages) as ws:
        source = mastodon_source(server.url, hashtags="vle", streaming="true", streaming_url=ws.url)
        connector_for(source).stream(stop=threading.Event(), max_reconnects=1)
    assert ws.connections == 2
    assert stored_ids(source) == ["113500000000000401", "113500000000000402", "113500000000000404"]
