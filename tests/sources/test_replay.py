"""The replay servers: ordered replies, repeat of the last, recording, truncation, WebSocket drop."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK
from websockets.sync.client import connect

from tests.replay import DROP, ReplayServer, Reply, WebSocketReplayServer


def test_http_replies_in_order_and_records() -> None:
    routes = {("GET", "/a"): [Reply(429, {"Retry-After": "3"}), Reply(200, body={"ok": True})]}
    with ReplayServer(routes) as server:
        first = httpx.get(server.url + "/a?x=1")
        second = httpx.get(server.url + "/a")
        third = httpx.get(server.url + "/a")
        missing = httpx.post(server.url + "/nope", content=b"hi")
    assert (first.status_code, first.headers["retry-after"]) == (429, "3")
    assert second.json() == {"ok": True} and third.status_code == 200
    assert missing.status_code == 404
    assert server.requests[0].query == {"x": ["1"]}
    assert server.requests[-1].body == b"hi"


def test_http_callable_and_truncation() -> None:
    with ReplayServer() as server:
        server.add("GET", "/echo", lambda req: Reply(200, body=req.query.get("q", [""])[0]))
        server.add("GET", "/cut", Reply(200, body=b"x" * 1000, truncate_at=10))
        assert httpx.get(server.url + "/echo?q=hello").text == "hello"
        with pytest.raises(httpx.HTTPError):
            httpx.get(server.url + "/cut")


def test_websocket_messages_and_drop() -> None:
    def handler(conn):  # type: ignore[no-untyped-def]
        yield f"hello {conn.query.get('cursor', ['-'])[0]}"
        yield DROP

    with WebSocketReplayServer(handler) as ws, connect(ws.url + "/subscribe?cursor=5") as client:
        assert client.recv(timeout=5) == "hello 5"
        with pytest.raises((ConnectionClosedError, ConnectionClosedOK, EOFError, OSError)):
            client.recv(timeout=5)
    assert ws.connections[0].path == "/subscribe"
