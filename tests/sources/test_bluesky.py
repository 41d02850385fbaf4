"""The Bluesky connector: Jetstream replayed over WebSocket (`websockets`); atproto against a replay PDS."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.connectors.bluesky.client import PdsClient
from servicepulse.sources.connectors.bluesky.prefilter import Prefilter
from servicepulse.sources.registry import CannotReply, ConnectorError, connector_for
from servicepulse.sources.services import source_create, source_set_cursor, source_sync
from tests.replay import DROP, ReplayServer, Reply, WebSocketReplayServer, WsConnection

FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/bluesky/fixtures"
ORG = "did:plc:northfieldituni0000000000"
T0 = 1795640400000000
LINES = (FIXTURES / "jetstream_events.jsonl").read_text().splitlines()
pytestmark = pytest.mark.django_db

EXPECTED = {
    "at://did:plc:amyamyamyamyamyamyamyamy/app.bsky.feed.post/3lbpost000001",  # keyword
    "at://did:plc:rajrajrajrajrajrajrajraj/app.bsky.feed.post/3lbpost000003",  # hashtag
    "at://did:plc:leeleeleeleeleeleeleelee/app.bsky.feed.post/3lbpost000004",  # mentions the account
    "at://did:plc:zoezoezoezoezoezoezoezoe/app.bsky.feed.post/3lbpost000005",  # replies to the account
    "at://did:plc:printprintprintprintprin/app.bsky.feed.post/3lbpost000007",  # keyword
    "at://did:plc:amyamyamyamyamyamyamyamy/app.bsky.feed.post/3lbpost000010",  # keyword, capitalised
}


def time_of(line: str) -> int:
    try:
        return int(json.loads(line)["time_us"])
    except ValueError:  # the truncated line still starts with its did and time_us
        return int(line.split('"time_us":')[1].split(",")[0])


def from_cursor(conn: WsConnection) -> list[str]:
    """Jetstream semantics: with `cursor`, replay every event at or after that time_us."""
    cursor = int(conn.query["cursor"][0]) if "cursor" in conn.query else 0
    return [line for line in LINES if time_of(line) >= cursor]


def bluesky_source(ws_url: str, **options: str) -> Any:
    defaults = {
        "keywords": "moodle",
        "hashtags": "NorthfieldIT",
        "account_did": ORG,
        "jetstream_url": ws_url + "/subscribe",
    }
    source = source_create(kind="bluesky", name="bsky", options={**defaults, **options})
    # A first start listens from "now"; the recorded events are older, so start where they begin.
    source_set_cursor(source=source, cursor={"time_us": T0})
    return source


def stored(source: Any) -> set[str]:
    return set(Mention.objects.filter(source=source).values_list("external_id", flat=True))


def test_prefilter() -> None:
    prefilter = Prefilter(keywords=["moodle", "student e-mail"], hashtags=["#vle"], account_did=ORG)
    assert prefilter.quick('{"text":"is moodle down"}') and not prefilter.quick('{"text":"sunset"}')
    assert prefilter.matches("Moodle down", {}) and not prefilter.matches("Moodles", {})
    assert prefilter.matches("no Student E-mail today", {}) and prefilter.matches("ugh #VLE", {})
    assert not prefilter.matches("ugh #vles", {})
    tag = {"facets": [{"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "VLE"}]}]}
    assert prefilter.matches("see tag", tag)
    reply = {"reply": {"parent": {"uri": f"at://{ORG}/app.bsky.feed.post/x"}}}
    assert prefilter.matches("thanks", reply)
    assert Prefilter(keywords=["café"], hashtags=[]).quick('{"text":"caf\\u00e9 wifi"}'.lower())


def test_stream_keeps_only_matching_posts_and_quarantines_broken() -> None:
    def serve(conn: WsConnection) -> Iterator[str]:
        yield from from_cursor(conn)

    with WebSocketReplayServer(serve) as ws:
        source = bluesky_source(ws.url)
        connector_for(source).stream(stop=threading.Event(), max_reconnects=0)
    assert stored(source) == EXPECTED
    reasons = sorted(Quarantine.objects.filter(source=source).values_list("reason", flat=True))
    assert len(reasons) == 2
    assert reasons[0].startswith("event is not JSON") and "createdAt is not an ISO 8601 time" in reasons[1]
    query = ws.connections[0].query
    assert query["wantedCollections"] == ["app.bsky.feed.post"]
    source.refresh_from_db()
    assert source.cursor == {"time_us": time_of(LINES[-1])}
    mention = Mention.objects.get(source=source, external_id__endswith="3lbpost000005")
    assert mention.in_reply_to == f"at://{ORG}/app.bsky.feed.post/3lborgpost001"
    assert mention.url == "https://bsky.app/profile/did:plc:zoezoezoezoezoezoezoezoe/post/3lbpost000005"
    assert mention.created_at.isoformat() == "2026-11-25T21:00:12+00:00"
    printing = Mention.objects.get(source=source, external_id__endswith="3lbpost000007")
    assert printing.language == "en" and printing.author == "did:plc:printprintprintprintprin"


def test_restart_mid_stream_replays_from_cursor_without_loss_or_duplicates() -> None:
    """The first consumer is cut off after seven events (the connection drops and the process is gone);
    a fresh one resumes from the stored cursor, rewound two seconds: nothing lost, nothing twice."""

    def serve(conn: WsConnection) -> Iterator[Any]:
        events = from_cursor(conn)
        if len(ws.connections) == 1:
            yield from events[:7]
            yield DROP
        else:
            yield from events

    with WebSocketReplayServer(serve) as ws:
        source = bluesky_source(ws.url)
        connector_for(source).stream(
            stop=threading.Event(), max_reconnects=0
        )  # first process: dies at the drop
        source.refresh_from_db()
        cursor_after_drop = source.cursor["time_us"]
        assert cursor_after_drop == time_of(LINES[6])
        first_part = stored(source)
        connector_for(source).stream(stop=threading.Event(), max_reconnects=0)  # a new process: resumes
    assert first_part < EXPECTED
    assert stored(source) == EXPECTED
    assert Mention.objects.filter(source=source).count() == len(EXPECTED)
    assert int(ws.connections[1].query["cursor"][0]) == cursor_after_drop - 2_000_000
    assert Quarantine.objects.filter(source=source).count() == 2


def test_duplicate_deliveries_store_once() -> None:
    def serve(conn: WsConnection) -> Iterator[str]:
        for line in LINES:
            yield line
            yield line  # every event delivered twice

    with WebSocketReplayServer(serve) as ws:
        source = bluesky_source(ws.url)
        connector_for(source).stream(stop=threading.Event(), max_reconnects=0)
    assert Mention.objects.filter(source=source).count() == len(EXPECTED)


def test_sync_catches_up_from_cursor() -> None:
    with WebSocketReplayServer(lambda conn: iter(from_cursor(conn))) as ws:
        source = bluesky_source(ws.url, streaming="false")
        source_set_cursor(source=source, cursor={"time_us": T0 + 9_000_000})
        result = source_sync(source=source)
    assert int(ws.connections[0].query["cursor"][0]) == T0 + 7_000_000  # rewound two seconds
    assert result.created == 5 and result.quarantined == 2  # the keyword post at 5 s is before the cursor


def test_jetstream_refuses_connection() -> None:
    source = bluesky_source("ws://127.0.0.1:9", streaming="false")
    source_set_cursor(source=source, cursor={"time_us": T0})
    with pytest.raises(ConnectorError, match="jetstream: cannot connect"):
        source_sync(source=source)
    source.refresh_from_db()
    assert "jetstream" in source.last_error and source.next_try_at is not None


def test_jetstream_429_retry_after_then_recovers() -> None:
    refuse = [Reply(429, {"Retry-After": "30"}, "slow down")]
    with WebSocketReplayServer(lambda conn: iter(from_cursor(conn)), refuse=refuse) as ws:
        source = bluesky_source(ws.url, streaming="false")
        with pytest.raises(ConnectorError, match="HTTP 429") as limited:
            source_sync(source=source)
        assert limited.value.retry_after == 30
        source.refresh_from_db()
        assert 29 <= (source.next_try_at - source.last_error_at).total_seconds() <= 31
        assert source_sync(source=source).created == len(EXPECTED)
    assert [path.split("?")[0] for path in ws.refused] == ["/subscribe"]


def test_reply_through_atproto() -> None:
    routes = {
        ("POST", "/xrpc/com.atproto.server.createSession"): [
            Reply(200, body=json.loads((FIXTURES / "create_session.json").read_text()))
        ],
        ("POST", "/xrpc/com.atproto.repo.createRecord"): [
            Reply(200, body=json.loads((FIXTURES / "create_record.json").read_text()))
        ],
    }
    with WebSocketReplayServer(lambda conn: iter(from_cursor(conn))) as ws, ReplayServer(routes) as pds:
        source = bluesky_source(
            ws.url, handle="northfieldit.bsky.social", app_password="abcd-efgh-ijkl-mnop", pds_url=pds.url
        )
        connector_for(source).stream(stop=threading.Event(), max_reconnects=0)
        mention = Mention.objects.get(source=source, external_id__endswith="3lbpost000005")
        result = connector_for(source).reply(mention=mention, text="Glad it works again!")
    assert result.external_id == f"at://{ORG}/app.bsky.feed.post/3lbreply00001"
    login = pds.requests_to("/xrpc/com.atproto.server.createSession")[0].json()
    assert login["identifier"] == "northfieldit.bsky.social" and login["password"] == "abcd-efgh-ijkl-mnop"
    created = pds.requests_to("/xrpc/com.atproto.repo.createRecord")[0]
    assert created.headers["Authorization"].startswith("Bearer ")
    body = created.json()
    assert body["repo"] == ORG and body["collection"] == "app.bsky.feed.post"
    record = body["record"]
    assert record["text"] == "Glad it works again!"
    assert record["reply"]["parent"]["uri"] == mention.external_id
    assert record["reply"]["root"]["uri"] == f"at://{ORG}/app.bsky.feed.post/3lborgpost001"


def test_reply_rate_limited_and_no_credentials() -> None:
    routes = {
        ("POST", "/xrpc/com.atproto.server.createSession"): [
            Reply(
                429, {"Retry-After": "45"}, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
            )
        ]
    }
    with WebSocketReplayServer(lambda conn: iter(from_cursor(conn))) as ws, ReplayServer(routes) as pds:
        source = bluesky_source(ws.url, handle="h.bsky.social", app_password="x", pds_url=pds.url)
        connector_for(source).stream(stop=threading.Event(), max_reconnects=0)
        mention = Mention.objects.filter(source=source).first()
        with pytest.raises(ConnectorError, match="HTTP 429") as limited:
            connector_for(source).reply(mention=mention, text="hi")
        assert limited.value.retry_after == 45
        plain = source_create(kind="bluesky", name="no-creds", options={"keywords": "x"})
        with pytest.raises(CannotReply):
            connector_for(plain).reply(mention=mention, text="hi")


IMAGE_LINES = (FIXTURES / "jetstream_image_posts.jsonl").read_text().splitlines()


def test_image_only_posts_are_read_by_their_alt_text_and_wordless_ones_counted() -> None:
    """A post may have empty `text` and only pictures (`embed` `app.bsky.embed.images`, each image with a
    required `alt`, possibly ""; or as a quote's `media` in `app.bsky.embed.recordWithMedia`:
    https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/images.json). Those with alt
    text are stored with it as their text; a reply to the account with nothing to read is skipped and
    counted, not dropped silently nor quarantined; a second pull adds nothing."""

    def serve(conn: WsConnection) -> Iterator[str]:
        cursor = int(conn.query["cursor"][0])
        yield from (line for line in IMAGE_LINES if time_of(line) >= cursor)

    with WebSocketReplayServer(serve) as ws:
        source = bluesky_source(ws.url, streaming="false")
        first = source_sync(source=source)
        source_set_cursor(source=source, cursor={"time_us": T0})
        again = source_sync(source=source)
    assert (first.created, first.skipped, first.quarantined) == (2, 1, 0)
    assert (again.created, again.duplicates, again.skipped) == (0, 2, 1)
    assert Mention.objects.filter(source=source).count() == 2
    assert not Quarantine.objects.filter(source=source).exists()
    reply = Mention.objects.get(source=source, external_id__endswith="3lbimage00001")
    assert reply.text == (
        "Screenshot of the VPN client: error 809, the connection could not be established\n"
        "The same error from the library PC"
    )
    assert reply.in_reply_to == f"at://{ORG}/app.bsky.feed.post/3lborgpost001"
    quote = Mention.objects.get(source=source, external_id__endswith="3lbimage00003")
    assert quote.text == "Moodle showing 'site under maintenance' at 9pm"


def test_first_pull_reads_back_the_sources_poll_interval() -> None:
    """Not streamed and never pulled: the first pull replays the source's own `poll_seconds`, not the
    connector's default (Jetstream's `cursor` is a time_us to replay from:
    https://github.com/bluesky-social/jetstream#consuming-jetstream)."""
    import time as clock

    with WebSocketReplayServer(lambda conn: iter(())) as ws:
        source = source_create(
            kind="bluesky",
            name="bsky",
            options={"keywords": "moodle", "jetstream_url": ws.url + "/subscribe", "streaming": "false"},
        )
        source.options["poll_seconds"] = 1800
        source.save()
        before = int(clock.time() * 1_000_000)
        source_sync(source=source)
    cursor = int(ws.connections[0].query["cursor"][0])
    assert before - 1801 * 1_000_000 <= cursor <= before - 1799 * 1_000_000 + 5_000_000


def test_pds_connection_goes_to_the_address_that_was_checked(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Security review: the PDS client checked what the host name resolved to, then httpx connected by name, so
    # a second DNS answer (rebinding) could point the request at a private address.
    settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
    settings.SERVICEPULSE_FETCH_ALLOW_NETWORKS = ["127.0.0.1/32"]  # the replay PDS stands for a public host
    real = socket.getaddrinfo
    calls: list[str] = []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "pds.rebind.test":
            calls.append(host)  # first the allowed address, then one outside the allowed networks
            return real("127.0.0.1" if len(calls) == 1 else "127.0.0.2", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    session = json.loads((FIXTURES / "create_session.json").read_text())
    with ReplayServer(
        {("POST", "/xrpc/com.atproto.server.createSession"): [Reply(200, body=session)]}
    ) as pds:
        client = PdsClient(pds_url=f"http://pds.rebind.test:{pds.port}")
        client.login(handle="northfieldit.bsky.social", app_password="abcd-efgh-ijkl-mnop")
        assert client.did == session["did"]
        assert calls == ["pds.rebind.test"]  # resolved once, and connected to that address
        assert pds.requests[0].headers["Host"] == f"pds.rebind.test:{pds.port}"
        with pytest.raises(ConnectorError, match=r"127\.0\.0\.2"):  # the next call resolves and checks again
            client.call(lambda: client.api.com.atproto.server.get_session(), where="the PDS")
    assert len(pds.requests) == 1
