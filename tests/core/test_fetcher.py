"""The guarded fetcher against a loopback replay server: address refusals (with the private-network permission
turned off), redirects, rebinding, size/time limits, conditional GET and Retry-After."""

from __future__ import annotations

import gzip
import socket
from typing import Any

import pytest
import requests

from servicepulse.core.fetcher import (
    AddressRefused,
    FetchError,
    address_is_public,
    check_url,
    fetch,
    guarded_requests_session,
    parse_retry_after,
    websocket_target,
)
from tests.replay import ReplayServer, Reply

LOOPBACK_ONLY = ["127.0.0.1/32"]


@pytest.fixture
def strict(settings: Any) -> None:
    """Production behaviour: private addresses refused."""
    settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
    settings.SERVICEPULSE_FETCH_ALLOW_NETWORKS = []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::1",
        "2001:db8::1",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2001:4860:4860::8888", "2606:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert address_is_public(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/feed",
        "http://localhost:{port}/feed",
        "http://[::1]:{port}/feed",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:{port}/feed",
        "http://0.0.0.0:{port}/",
    ],
)
def test_refuses_private_hosts_when_not_allowed(strict: None, url: str) -> None:
    with ReplayServer({("GET", "/feed"): [Reply(200, body="secret")]}) as server:
        with pytest.raises(AddressRefused, match="not a public address"):
            fetch(url.format(port=server.port))
        assert server.requests == []


def test_allowed_when_setting_on(settings: Any) -> None:
    settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = True
    with ReplayServer({("GET", "/feed"): [Reply(200, {"ETag": '"v1"'}, "hello")]}) as server:
        response = fetch(server.url + "/feed")
    assert response.status == 200 and response.text == "hello" and response.etag == '"v1"'


def test_redirect_to_private_address_refused(strict: None) -> None:
    routes = {("GET", "/start"): [Reply(302, {"Location": "http://10.0.0.7/admin"})]}
    with ReplayServer(routes) as server, pytest.raises(AddressRefused, match=r"10\.0\.0\.7"):
        fetch(server.url + "/start", allow_networks=LOOPBACK_ONLY)
    assert [r.path for r in server.requests] == ["/start"]


def test_redirects_followed_and_limited(settings: Any) -> None:
    with ReplayServer() as server:
        server.add("GET", "/a", Reply(301, {"Location": "/b"}))
        server.add("GET", "/b", Reply(302, {"Location": server.url + "/c"}))
        server.add("GET", "/c", Reply(200, body="done"))
        server.add("GET", "/loop", Reply(302, {"Location": "/loop"}))
        server.add("GET", "/ftp", Reply(302, {"Location": "ftp://example.org/x"}))
        response = fetch(server.url + "/a")
        assert response.text == "done" and response.url.endswith("/c") and len(response.redirects) == 2
        with pytest.raises(FetchError, match="more than 3 redirects"):
            fetch(server.url + "/loop", max_redirects=3)
        with pytest.raises(FetchError, match="only http and https"):
            fetch(server.url + "/ftp")


def test_redirect_to_another_origin_drops_the_callers_credentials() -> None:
    # Security review: a token sent to an API (Slack's Authorization, Discourse's Api-Key) followed a redirect
    # to whatever host the answer named.
    sent = {"Authorization": "Bearer xoxb-secret", "Api-Key": "k-secret", "Accept": "application/json"}
    with ReplayServer() as elsewhere, ReplayServer() as api:
        elsewhere.add("GET", "/landing", Reply(200, body="elsewhere"))
        api.add("GET", "/moved", Reply(302, {"Location": "/here"}))
        api.add("GET", "/here", Reply(302, {"Location": elsewhere.url + "/landing"}))
        assert fetch(api.url + "/moved", headers=sent).text == "elsewhere"
    same_origin = api.requests[1].headers
    assert (
        same_origin.get("Authorization") == "Bearer xoxb-secret" and same_origin.get("Api-Key") == "k-secret"
    )
    other = {name.lower(): value for name, value in elsewhere.requests[0].headers.items()}
    assert "authorization" not in other and "api-key" not in other
    assert other["accept"] == "application/json" and other["user-agent"].startswith("servicepulse/")


def test_dns_rebinding_connects_to_checked_address(strict: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name resolves to an allowed address once, then to a forbidden one: the fetch must use the first."""
    real = socket.getaddrinfo
    calls: list[str] = []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "feeds.rebind.test":
            calls.append(host)
            target = "127.0.0.1" if len(calls) == 1 else "10.9.9.9"
            return real(target, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with ReplayServer({("GET", "/feed"): [Reply(200, body="from the checked address")]}) as server:
        response = fetch(f"http://feeds.rebind.test:{server.port}/feed", allow_networks=LOOPBACK_ONLY)
    assert response.text == "from the checked address"
    assert calls == ["feeds.rebind.test"]  # resolved once; the connection went to that address
    assert server.requests[0].headers["Host"] == f"feeds.rebind.test:{server.port}"


def test_name_with_any_private_address_refused(strict: None, monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def mixed(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "mixed.test":
            return real("127.0.0.1", port, *args, **kwargs) + real("10.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", mixed)
    with pytest.raises(AddressRefused, match=r"10\.0\.0\.1"):
        fetch("http://mixed.test/", allow_networks=LOOPBACK_ONLY)


def test_size_limit_counts_decoded_bytes() -> None:
    bomb = gzip.compress(b"a" * 2_000_000)
    with ReplayServer() as server:
        server.add("GET", "/big", Reply(200, body=b"x" * 5000))
        server.add("GET", "/bomb", Reply(200, {"Content-Encoding": "gzip"}, bomb))
        with pytest.raises(FetchError, match="over the 1000-byte limit"):
            fetch(server.url + "/big", max_bytes=1000)
        with pytest.raises(FetchError, match="byte limit"):
            fetch(server.url + "/bomb", max_bytes=100_000)
        assert len(fetch(server.url + "/big", max_bytes=5000).content) == 5000


def test_a_compression_bomb_never_expands_past_the_limit_in_memory() -> None:
    """A body compressed twice ("gzip, gzip") of 200 MB of zeros is under a kilobyte on the wire. httpx's
    decoders inflated each layer in full before the size limit was counted: 400 MB held for a 100 kB fetch (and
    gigabytes from a few kilobytes more), from any page a pingback names. Once-compressed bodies are decoded
    within the limit; a second layer is refused."""
    import tracemalloc
    import zlib

    def gz(data: bytes) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return packer.compress(data) + packer.flush()

    once = gz(bytes(200 * 1024 * 1024))
    twice = gz(once)
    with ReplayServer() as server:
        server.add("GET", "/twice", Reply(200, {"Content-Encoding": "gzip, gzip"}, twice))
        server.add("GET", "/once", Reply(200, {"Content-Encoding": "gzip"}, once))
        refusals = [
            ("/twice", "compressed as gzip, gzip|byte limit"),
            ("/once", "over the 100000-byte limit"),
        ]
        for path, reason in refusals:
            tracemalloc.start()
            try:
                with pytest.raises(FetchError, match=reason):
                    fetch(server.url + path, max_bytes=100_000)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert peak < 20 * 1024 * 1024, f"{path}: {peak} bytes held"


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "raw-deflate", "identity", ""])
def test_compressed_bodies_are_read(coding: str) -> None:
    import zlib

    text = b"<rss>" + b"news " * 50_000 + b"</rss>"
    packers = {
        "gzip": (zlib.MAX_WBITS | 16, "gzip"),
        "x-gzip": (zlib.MAX_WBITS | 16, "x-gzip"),
        "deflate": (zlib.MAX_WBITS, "deflate"),  # zlib-wrapped, as HTTP says
        "raw-deflate": (-zlib.MAX_WBITS, "deflate"),  # what some servers send as "deflate"
    }
    headers, body = ({"Content-Encoding": coding} if coding else {}), text
    if coding in packers:
        wbits, name = packers[coding]
        packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
        headers, body = {"Content-Encoding": name}, packer.compress(text) + packer.flush()
    with ReplayServer() as server:
        server.add("GET", "/feed", Reply(200, headers, body))
        assert fetch(server.url + "/feed", max_bytes=len(text)).content == text
        with pytest.raises(FetchError, match="byte limit"):
            fetch(server.url + "/feed", max_bytes=len(text) - 1)


def test_timeout_and_truncated_body() -> None:
    with ReplayServer() as server:
        server.add("GET", "/slow", Reply(200, body="late", delay=2))
        server.add("GET", "/cut", Reply(200, body=b"<rss>" + b"x" * 500, truncate_at=20))
        with pytest.raises(FetchError, match="timed out"):
            fetch(server.url + "/slow", timeout=0.3)
        with pytest.raises(FetchError, match="cut short"):
            fetch(server.url + "/cut")


def test_conditional_get() -> None:
    def conditional(request: Any) -> Reply:
        if request.headers.get("If-None-Match") == '"v1"':
            return Reply(304, {"ETag": '"v1"'})
        return Reply(200, {"ETag": '"v1"', "Last-Modified": "Wed, 25 Nov 2026 10:00:00 GMT"}, "<feed/>")

    with ReplayServer({("GET", "/feed"): [conditional]}) as server:
        first = fetch(server.url + "/feed")
        second = fetch(server.url + "/feed", etag=first.etag, last_modified=first.last_modified)
    assert first.status == 200 and first.last_modified.startswith("Wed")
    assert second.not_modified and second.content == b""
    assert server.requests[1].headers["If-Modified-Since"] == "Wed, 25 Nov 2026 10:00:00 GMT"


def test_error_status_and_retry_after() -> None:
    routes = {
        ("GET", "/busy"): [Reply(429, {"Retry-After": "120"}, "slow down")],
        ("GET", "/gone"): [Reply(410, body="gone")],
    }
    with ReplayServer(routes) as server:
        with pytest.raises(FetchError) as busy:
            fetch(server.url + "/busy")
        assert busy.value.status == 429 and busy.value.retry_after == 120
        assert "HTTP 429" in str(busy.value) and "slow down" in str(busy.value)
        gone = fetch(server.url + "/gone", raise_for_status=False)
        assert gone.status == 410


def test_parse_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("5") == 5.0


def test_guarded_requests_session(strict: None) -> None:
    with ReplayServer({("GET", "/api"): [Reply(200, body={"ok": True})]}) as server:
        session = guarded_requests_session()
        with pytest.raises(AddressRefused):
            session.get(server.url + "/api")
        assert server.requests == []


def test_guarded_requests_session_checks_redirect_hops(strict: None, settings: Any) -> None:
    settings.SERVICEPULSE_FETCH_ALLOW_NETWORKS = LOOPBACK_ONLY
    routes = {
        ("GET", "/api"): [Reply(302, {"Location": "http://169.254.169.254/latest"})],
        ("GET", "/ok"): [Reply(200, body={"ok": True})],
    }
    with ReplayServer(routes) as server:
        session = guarded_requests_session()
        assert session.get(server.url + "/ok").json() == {"ok": True}
        with pytest.raises(AddressRefused):
            session.get(server.url + "/api")
    assert not isinstance(session, type(None)) and isinstance(session, requests.Session)


def test_guarded_requests_session_connects_to_checked_address(
    strict: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name answers the allowed address once, then a private one: the connection is made to the address
    that was checked (resolved once per connection), and a new connection is checked again and refused."""
    settings.SERVICEPULSE_FETCH_ALLOW_NETWORKS = LOOPBACK_ONLY
    real = socket.getaddrinfo
    calls: list[str] = []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "api.rebind.test":
            calls.append(host)
            return real("127.0.0.1" if len(calls) == 1 else "10.9.9.9", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with ReplayServer({("GET", "/api"): [Reply(200, body={"ok": True})]}) as server:
        session = guarded_requests_session()
        assert session.get(f"http://api.rebind.test:{server.port}/api").json() == {"ok": True}
        assert server.requests[0].headers["Host"] == f"api.rebind.test:{server.port}"
        assert len(calls) == 1  # the socket layer did not resolve the name again
        with pytest.raises(AddressRefused, match=r"10\.9\.9\.9"):
            guarded_requests_session().get(f"http://api.rebind.test:{server.port}/api")
    assert len(calls) == 2 and len(server.requests) == 1


def test_websocket_target(strict: None) -> None:
    with pytest.raises(AddressRefused):
        websocket_target("ws://127.0.0.1:9/subscribe")
    with pytest.raises(FetchError, match="not a WebSocket URL"):
        websocket_target("http://example.org/")


def test_read_and_connect_timeouts_are_told_apart() -> None:
    with (
        ReplayServer({("GET", "/slow"): [Reply(200, body="late", delay=2)]}) as server,
        pytest.raises(FetchError) as stalled,
    ):
        fetch(server.url + "/slow", timeout=0.3)
    assert str(stalled.value) == "timed out waiting for 127.0.0.1 to answer (it accepted the connection)"

    # A listening socket whose accept queue is full drops further connection attempts: connecting times out.
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        waiting = [socket.socket() for _ in range(3)]
        try:
            for sock in waiting:
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", port))
            with pytest.raises(FetchError) as unanswered:
                fetch(f"http://127.0.0.1:{port}/", timeout=0.3)
        finally:
            for sock in waiting:
                sock.close()
    assert str(unanswered.value) == "timed out connecting to 127.0.0.1"


def test_error_status_message_is_one_line_without_the_page() -> None:
    page = (
        "<!DOCTYPE HTML>\n<html>\n<head><title>404 Not Found</title></head>\n"
        "<body>\n<h1>Not Found</h1>\n<p>The requested URL was not found.</p>\n</body>\n</html>\n"
    )
    routes = {
        ("GET", "/html"): [Reply(404, {"Content-Type": "text/html"}, page)],
        ("GET", "/html-as-text"): [Reply(404, {"Content-Type": "text/plain"}, page)],
        ("GET", "/text"): [
            Reply(503, {"Content-Type": "text/plain"}, "down for\n  maintenance\n\nback at 6")
        ],
        ("GET", "/long"): [
            Reply(500, {"Content-Type": "application/json"}, '{"error": "' + "x" * 1000 + '"}')
        ],
    }
    with ReplayServer(routes) as server:
        messages = {}
        for path in ("/html", "/html-as-text", "/text", "/long"):
            with pytest.raises(FetchError) as failed:
                fetch(server.url + path)
            messages[path] = str(failed.value)
    assert messages["/html"] == "HTTP 404 Not Found"
    assert messages["/html-as-text"] == "HTTP 404 Not Found"
    assert messages["/text"] == "HTTP 503 Service Unavailable: down for maintenance back at 6"
    assert messages["/long"].startswith('HTTP 500 Internal Server Error: {"error": "xxx')
    assert len(messages["/long"]) < 250
    assert all("\n" not in message for message in messages.values())


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("notaurl", "only http and https URLs can be fetched, not a relative URL"),
        ("ftp://x/y", "only http and https URLs can be fetched, not ftp"),
        ("file:///etc/passwd", "only http and https URLs can be fetched, not file"),
        ("https://user:pw@feeds.example.org/rss", "URLs with credentials in them are not fetched"),
        ("http://127.0.0.1:9311", "not a public address"),
        ("http://localhost/feed", "not a public address"),
        ("http://[::1]:8080/", "not a public address"),
        ("http://10.0.0.5/", "not a public address"),
    ],
)
def test_check_url_refuses_what_every_request_would_refuse(strict: None, url: str, reason: str) -> None:
    with pytest.raises(FetchError, match=reason):
        check_url(url)


def test_check_url_lets_through_what_may_work(strict: None, settings: Any) -> None:
    check_url("https://forum.example.invalid/")  # does not resolve now: checked again at every request
    check_url("wss://jetstream.example.invalid/subscribe", schemes=("ws", "wss"))
    with pytest.raises(FetchError, match="only ws and wss"):
        check_url("https://jetstream.example.invalid/", schemes=("ws", "wss"))
    settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = True  # the tests' and local demos' allowance
    check_url("http://127.0.0.1:9311")
