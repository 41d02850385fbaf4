"""Blog test fixtures: posts, people, and a loopback web server for linkback sources and discovery pages."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Received:
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class WebServer:
    """A loopback HTTP/1.1 server answering raw responses (so tests control every header, repeated ones too).

    `pages[path]` is the raw response text ("HTTP/1.1 200 OK\\nHeader: v\\n\\nbody"), `{base}` standing for
    the server's URL; a callable gets the request and returns such text. Unknown GETs answer 404; POSTs to an
    unknown path answer 202 (a Webmention endpoint). Every request is recorded.
    """

    pages: dict[str, str | Callable[[Received], str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    base: str = ""

    def html(self, path: str, body: str, *, status: str = "200 OK", headers: str = "") -> None:
        self.pages[path] = f"HTTP/1.1 {status}\nContent-Type: text/html; charset=utf-8\n{headers}\n{body}"

    def posts_to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.method == "POST" and r.path == path]


def _serve(server: WebServer, sock: socket.socket, stop: threading.Event) -> None:
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        threading.Thread(target=_handle, args=(server, conn), daemon=True).start()


def _handle(server: WebServer, conn: socket.socket) -> None:
    with conn:
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        request = Received(method=method, path=target, headers=headers, body=body)
        server.received.append(request)
        page = server.pages.get(target) or server.pages.get(urlsplit(target).path)
        if callable(page):
            page = page(request)
        if page is None:
            page = (
                "HTTP/1.1 202 Accepted\nContent-Type: text/plain\n\naccepted"
                if method == "POST"
                else "HTTP/1.1 404 Not Found\nContent-Type: text/plain\n\nnot found"
            )
        raw_head, _, raw_body = page.replace("{base}", server.base).partition("\n\n")
        payload = raw_body.encode()
        out_head = (
            raw_head.replace("\n", "\r\n")
            + f"\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(out_head.encode() + (b"" if method == "HEAD" else payload))


@pytest.fixture
def web() -> Iterator[WebServer]:
    server = WebServer()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop = threading.Event()
    thread = threading.Thread(target=_serve, args=(server, sock, stop), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        sock.close()
        thread.join(timeout=2)


@pytest.fixture
def discovery_web(web: WebServer) -> tuple[WebServer, list[dict[str, Any]]]:
    """The 23 webmention.rocks discovery cases, served from tests/blog/fixtures/discovery/."""
    folder = FIXTURES / "discovery"
    cases = json.loads((folder / "cases.json").read_text())
    for case in cases:
        web.pages[case["path"]] = (folder / case["file"]).read_text()
    return web, [case for case in cases if case["endpoint"]]


@pytest.fixture
def blog_settings(settings: Any) -> Any:
    """Test-friendly blog settings: no fill-time wait, generous rate limit, tasks run at once."""
    settings.SERVICEPULSE_BLOG_MIN_FILL_SECONDS = 0
    settings.SERVICEPULSE_BLOG_RATE_LIMIT = 1000
    settings.SERVICEPULSE_AKISMET_KEY = ""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return settings


@pytest.fixture
def admin_user(users: dict[str, Any]) -> Any:
    user = users["admin"]
    user.email = "admin@northgate.example"
    user.first_name, user.last_name = "Helen", "Morrow"
    user.save()
    return user


@pytest.fixture
def make_post(db: Any, blog_settings: Any) -> Callable[..., Any]:
    from servicepulse.blog.services import post_create, post_publish

    def make(
        title: str = "Deadline night", body: str = "What happened on **deadline night**.", **kw: Any
    ) -> Any:
        publish = kw.pop("publish", True)
        post = post_create(title=title, body_markdown=body, author=kw.pop("author", None), **kw)
        if publish:
            post_publish(post=post)
            post.refresh_from_db()
        return post

    return make
