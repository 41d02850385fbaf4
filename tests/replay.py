"""Loopback replay servers for connector tests: the real client library talks to 127.0.0.1, we serve fixtures.

HTTP::

    from tests.replay import ReplayServer, Reply

    routes = {
        ("GET", "/api/v1/timelines/tag/vle"): [
            Reply(429, {"Retry-After": "7"}),            # first request
            Reply(200, body=fixture("statuses.json")),     # second and every later request (last one repeats)
        ],
    }
    with ReplayServer(routes) as server:
        client = Mastodon(api_base_url=server.url)        # server.url == "http://127.0.0.1:PORT"
        ...
        assert server.requests[0].path == "/api/v1/timelines/tag/vle"

- A route key is (METHOD, PATH). A request matches "PATH?QUERY" exactly first, then PATH without its query.
- Each route's replies are served in order; when they run out the last one repeats (`repeat_last=False`: 404).
- A reply may be a `Reply`, a tuple `(status, headers, body)`, or a callable `f(request) -> Reply` (to answer
  from the query string or the body). `body` may be bytes, str, or a dict/list (sent as JSON).
- `Reply(truncate_at=N)` announces the full Content-Length but sends only N bytes and closes the connection.
- Unknown routes answer 404 and are still recorded in `server.requests`.
- `server.add(method, path, *replies)` adds or replaces a route while running.

WebSocket (Mastodon streaming, Bluesky Jetstream)::

    from tests.replay import WebSocketReplayServer, DROP

    def handler(conn):                     # conn.path, conn.query (dict of lists), conn.headers
        for event in events_after(conn.query.get("cursor")):
            yield json.dumps(event)        # str -> text frame, bytes -> binary frame
        yield DROP                          # abrupt close (no close frame): the client must reconnect

    with WebSocketReplayServer(handler) as ws:
        ws.url                              # "ws://127.0.0.1:PORT"
        ws.connections                      # every connection made, in order

When the generator ends without DROP the server closes normally (code 1000).
`WebSocketReplayServer(messages=[...])` replays the same list to every connection.
`WebSocketReplayServer(handler, refuse=[Reply(429, {"Retry-After": "30"})])` answers the first opening
handshakes with those HTTP replies instead of upgrading (one per connection attempt, in order).
Messages the client sends within `read_first` seconds of connecting (subscriptions) are recorded in
`conn.received` before replaying.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "DROP",
    "RecordedRequest",
    "ReplayServer",
    "Reply",
    "WebSocketReplayServer",
    "WsConnection",
    "load_fixture",
]


def load_fixture(path: str | Path) -> bytes:
    """The bytes of a fixture file (helper so tests read fixtures the same way)."""
    return Path(path).read_bytes()


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | str | dict[str, Any] | list[Any] = b""
    truncate_at: int | None = None
    delay: float = 0.0  # seconds to wait before answering (timeouts)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        body = self.body
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        elif isinstance(body, str):
            body = body.encode()
        return body, headers


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def full_path(self) -> str:
        query = "&".join(f"{k}={v}" for k, vs in self.query.items() for v in vs)
        return f"{self.path}?{query}" if query else self.path

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


ReplySpec = Reply | tuple[Any, ...] | Callable[[RecordedRequest], Reply]


def _as_reply(spec: ReplySpec, request: RecordedRequest) -> Reply:
    if isinstance(spec, Reply):
        return spec
    if isinstance(spec, tuple):
        return Reply(*spec)
    result = spec(request)
    return result if isinstance(result, Reply) else Reply(*result)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k: v for k, v in self.headers.items()},
            body=body,
        )
        replay: ReplayServer = self.server.replay
        reply = replay._next_reply(request, self.path)
        if reply.delay:
            threading.Event().wait(reply.delay)
        payload, headers = reply.encoded()
        self.send_response(reply.status)
        headers.setdefault("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        if reply.truncate_at is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            if reply.truncate_at is not None:
                self.wfile.write(payload[: reply.truncate_at])
                self.wfile.flush()
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    replay: ReplayServer


class ReplayServer:
    """A threaded HTTP server on 127.0.0.1 (free port) that replays canned replies and records requests."""

    def __init__(
        self, routes: dict[tuple[str, str], Iterable[ReplySpec]] | None = None, *, repeat_last: bool = True
    ) -> None:
        self.routes: dict[tuple[str, str], list[ReplySpec]] = {}
        self._served: dict[tuple[str, str], int] = {}
        self.repeat_last = repeat_last
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        for (method, path), replies in (routes or {}).items():
            self.add(method, path, *replies)
        self._server: _Server | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None

    def add(self, method: str, path: str, *replies: ReplySpec) -> None:
        with self._lock:
            key = (method.upper(), path)
            self.routes[key] = list(replies)
            self._served[key] = 0

    def _next_reply(self, request: RecordedRequest, raw_path: str) -> Reply:
        with self._lock:
            self.requests.append(request)
            key = (request.method, raw_path)
            if key not in self.routes:
                key = (request.method, request.path)
            replies = self.routes.get(key)
            if not replies:
                return Reply(404, body={"error": f"no route for {request.method} {raw_path}"})
            index = self._served[key]
            self._served[key] = index + 1
            if index >= len(replies):
                if not self.repeat_last:
                    return Reply(404, body={"error": f"route {request.method} {raw_path} exhausted"})
                index = len(replies) - 1
            spec = replies[index]
        return _as_reply(spec, request)

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method.upper())]

    def requests_sent_to(
        self, path: str, method: str | None = None, *, within: float = 5.0
    ) -> list[RecordedRequest]:
        """`requests_to`, once at least one has arrived (or `within` seconds have passed): a client that gave up
        waiting for an answer may return before a busy machine's server thread has even read its request."""
        deadline = time.monotonic() + within
        while not self.requests_to(path, method) and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests_to(path, method)

    @property
    def port(self) -> int:
        assert self._port is not None, "server not started"
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReplayServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.replay = self
        self._port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="replay-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- WebSocket -------------------------------------------------------------------------------------------


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP = _Drop()  # yield this from a handler to cut the TCP connection without a close frame


@dataclass
class WsConnection:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    sent: int = 0
    received: list[str | bytes] = field(default_factory=list)


WsHandler = Callable[[WsConnection], Iterable[str | bytes | _Drop]]


class WebSocketReplayServer:
    """A WebSocket server (the `websockets` package, sync API) on 127.0.0.1 and a free port."""

    def __init__(
        self,
        handler: WsHandler | None = None,
        *,
        messages: Iterable[str | bytes] | None = None,
        read_first: float = 0.0,
        refuse: Iterable[Reply] = (),
    ) -> None:
        if handler is None:
            fixed = list(messages or [])

            def handler(conn: WsConnection) -> Iterator[str | bytes]:
                yield from fixed

        self.handler = handler
        self.read_first = read_first
        self.refuse = list(refuse)
        self.refused: list[str] = []  # request paths answered from `refuse`
        self.connections: list[WsConnection] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def _serve(self, websocket: Any) -> None:
        request = websocket.request
        parts = urlsplit(request.path)
        conn = WsConnection(
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k: v for k, v in request.headers.raw_items()},
        )
        self.connections.append(conn)
        if self.read_first:
            while True:
                try:
                    conn.received.append(websocket.recv(timeout=self.read_first))
                except Exception:  # TimeoutError when the client has said all it says first
                    break
        for message in self.handler(conn):
            if message is DROP:
                websocket.socket.shutdown(socket.SHUT_RDWR)
                websocket.socket.close()
                return
            try:
                websocket.send(message)
            except Exception:  # the client went away: stop serving this connection
                return
            conn.sent += 1

    def _handshake(self, connection: Any, request: Any) -> Any:
        if not self.refuse:
            return None
        reply = self.refuse.pop(0)
        self.refused.append(request.path)
        body, headers = reply.encoded()
        response = connection.respond(reply.status, body.decode("utf-8", errors="replace"))
        for name, value in headers.items():
            response.headers[name] = value
        return response

    @property
    def port(self) -> int:
        return self._server.socket.getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> WebSocketReplayServer:
        from websockets.sync.server import serve

        self._server = serve(
            self._serve, "127.0.0.1", 0, compression=None, max_size=None, process_request=self._handshake
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="replay-ws", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> WebSocketReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
