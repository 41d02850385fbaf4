"""The guarded fetcher: every outbound request to a URL a user supplied (feeds, instances, webmention sources,
pingback targets) goes through here.

What it guards against:
- addresses that are not public: the host is resolved and every address must be global unicast —
  loopback, private (RFC 1918, ULA), link-local, multicast, reserved, unspecified, shared (CGNAT) and
  IPv4-mapped forms of them are refused, for IPv4 and IPv6, on the first request and after every redirect;
- DNS rebinding: the connection is made to the address that was checked (the URL is rewritten to the IP, the
  `Host` header and TLS SNI/certificate check keep the original name), so a second resolution cannot move it;
- size (the decoded body is counted as it streams, so a gzip bomb stops at the limit), time (per-operation
  timeouts and an overall deadline) and redirects (a maximum count; only http and https).

`settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = True` lifts the address check (tests and local demos reach
127.0.0.1); `settings.SERVICEPULSE_FETCH_ALLOW_NETWORKS` (a list of CIDRs, e.g. an intranet feed server's
"10.1.2.3/32") permits just those networks. The other limits always apply.

Conditional GET: pass `etag=` / `last_modified=` from the previous response; a 304 comes back as
`FetchResponse.not_modified`.

Platform client libraries that bring their own HTTP stack use `guarded_requests_session()` (requests:
Mastodon.py, praw, tweepy) — every connection, redirect hops included, is checked and made to the checked
address — and `websocket_target()` (WebSocket clients connect to the returned, checked address). A URL a user
types in is checked when it is stored, too: `check_url()` refuses what every request to it would refuse.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import socket
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

from servicepulse import __version__

if TYPE_CHECKING:
    import requests

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0  # seconds, per connect/read/write operation
DEFAULT_DEADLINE = 30.0  # seconds for the whole fetch, redirects included
DEFAULT_MAX_REDIRECTS = 5
USER_AGENT = f"servicepulse/{__version__} (+https://github.com/servicepulse/servicepulse)"
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
HTTP_SCHEMES = ("http", "https")
WEBSOCKET_SCHEMES = ("ws", "wss")
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
# The only request headers a redirect to another origin carries: a caller's credentials (Authorization,
# Discourse's Api-Key, cookies, a signature) are for the address it named, not for wherever that points next.
CROSS_ORIGIN_HEADERS = frozenset({"user-agent", "accept-encoding", "accept", "content-type"})
ERROR_EXCERPT_CHARS = 200


# The longest wait asked by a platform (Retry-After, a rate limit's reset) that is honoured: one asking for
# years (or for longer than a date can hold, which raised where the wait was added to now) is tried again in a day.
WAIT_MAX_SECONDS = 24 * 3600.0


def bounded_wait(seconds: float | None) -> float | None:
    """A platform's request to wait, in seconds, as honoured: between 0 and WAIT_MAX_SECONDS; None for none
    (or for a NaN)."""
    if seconds is None or math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), WAIT_MAX_SECONDS)


class FetchError(Exception):
    """A fetch was refused or failed. `status` is the HTTP status when the server answered. `sent`: the request
    went out and no whole answer came back (a timeout after connecting, a connection dropped or an answer cut
    short), so a request that creates something may have been carried out."""

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.retry_after = bounded_wait(retry_after)
        self.sent = sent


class AddressRefused(FetchError):
    """The host resolves to an address servicepulse must not reach (loopback, private, link-local, ...)."""


@dataclass(frozen=True)
class FetchResponse:
    url: str  # the final URL, after redirects
    status: int
    headers: httpx.Headers
    content: bytes
    redirects: tuple[str, ...] = ()

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str:
        return self.headers.get("etag", "")

    @property
    def last_modified(self) -> str:
        return self.headers.get("last-modified", "")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


def allow_private() -> bool:
    return bool(getattr(settings, "SERVICEPULSE_FETCH_ALLOW_PRIVATE", False))


def address_is_public(address: str) -> bool:
    """True when `address` (an IPv4 or IPv6 literal) is a global unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # ::ffff:10.0.0.1 and 64:ff9b::/96 NAT64 or 6to4/Teredo forms carry an IPv4 address: judge that one.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return address_is_public(str(embedded))
        if ip in ipaddress.ip_network("64:ff9b::/96"):
            return address_is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return bool(
        ip.is_global
        and not (
            ip.is_multicast
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_private
            or ip.is_reserved
            or ip.is_unspecified
        )
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror or exc}") from None
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchError(f"{host} has no address")
    return addresses


def _allowed_networks(
    extra: Sequence[str] | None, *, configured_networks: bool = True
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    configured = (
        list(getattr(settings, "SERVICEPULSE_FETCH_ALLOW_NETWORKS", None) or [])
        if configured_networks
        else []
    )
    return [ipaddress.ip_network(cidr, strict=False) for cidr in [*configured, *(extra or [])]]


def checked_address(
    host: str,
    port: int,
    *,
    allow_private_addresses: bool | None = None,
    allow_networks: Sequence[str] | None = None,
    configured_networks: bool = True,
) -> str:
    """Resolve `host` and return the address to connect to, refusing hosts with any non-public address.

    Every address must be public (not just the first): a name that answers both a public and a private
    address is refused, since a client library might pick either. `configured_networks=False` leaves out
    SERVICEPULSE_FETCH_ALLOW_NETWORKS (for addresses anyone may name, such as a linkback's source).
    """
    permit = allow_private() if allow_private_addresses is None else allow_private_addresses
    addresses = resolve(host, port)
    if not permit:
        networks = _allowed_networks(allow_networks, configured_networks=configured_networks)
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if any(ip in network for network in networks):
                continue
            if not address_is_public(address):
                # Point at the narrow allow-list (an intranet feed server), not the switch that lifts the guard.
                raise AddressRefused(
                    f"refusing to connect to {host} ({address}): not a public address (to allow it, add "
                    f"{ip}/{ip.max_prefixlen} or its network to SERVICEPULSE_FETCH_ALLOW_NETWORKS)"
                )
    return addresses[0]


def _split_checked(url: str, schemes: Sequence[str] = HTTP_SCHEMES) -> tuple[Any, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        scheme = parts.scheme or "a relative URL"
        allowed = ", ".join(schemes[:-1]) + f" and {schemes[-1]}" if len(schemes) > 1 else schemes[0]
        raise FetchError(f"only {allowed} URLs can be fetched, not {scheme}", url=url)
    if not parts.hostname:
        raise FetchError("the URL has no host", url=url)
    if parts.username or parts.password:
        raise FetchError("URLs with credentials in them are not fetched", url=url)
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise FetchError("the URL's port is not a number", url=url) from None
    return parts, parts.hostname, port


def check_url(url: str, *, schemes: Sequence[str] = HTTP_SCHEMES) -> None:
    """Refuse `url` when it is stored (a source's address) as every request to it would be refused: a scheme
    other than `schemes`, no host, credentials in it, or a host with an address that is not public.

    A name that does not resolve now passes (its DNS may not be set up yet): each request resolves and checks
    it again, since what a name resolves to can change.
    """
    _, host, port = _split_checked(url, schemes)
    try:
        checked_address(host, port)
    except AddressRefused:
        raise
    except FetchError:
        return


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_rate_limit_reset(value: object) -> float | None:
    """Seconds to wait from a rate-limit reset header holding the Unix time the window resets at (X's
    x-rate-limit-reset, atproto's RateLimit-Reset), or None when it is missing or not a number."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()):  # "²".isdigit() is true, but int() refuses it
        return None
    return max(0.0, int(text) - time.time())


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    data: dict[str, Any] | None = None,
    json: Any = None,
    etag: str = "",
    last_modified: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    deadline: float = DEFAULT_DEADLINE,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
    raise_for_status: bool = True,
    allow_private_addresses: bool | None = None,
    allow_networks: Sequence[str] | None = None,
    configured_networks: bool = True,
) -> FetchResponse:
    """Fetch `url` within the limits above.

    The private networks of SERVICEPULSE_FETCH_ALLOW_NETWORKS are reachable only with `configured_networks`
    (the default): a URL that a visitor or a remote page chose (a linkback's source, an endpoint a page names)
    is fetched with it False, so the intranet server allowed for one feed is not open to anyone.

    Raises FetchError (AddressRefused for a refused address) on a refused or failed fetch, on a body over
    `max_bytes`, and — when `raise_for_status` — on an HTTP error status, with `status` and, for 429 and 503,
    `retry_after` in seconds from the Retry-After header.
    """
    started = time.monotonic()
    request_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    request_headers.update(headers or {})
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    redirects: list[str] = []
    current = url
    with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False) as client:
        while True:
            parts, host, port = _split_checked(current)
            address = checked_address(
                host,
                port,
                allow_private_addresses=allow_private_addresses,
                allow_networks=allow_networks,
                configured_networks=configured_networks,
            )
            # Connect to the address we checked; keep the name for Host, SNI and the certificate check.
            ip_host = f"[{address}]" if ":" in address else address
            netloc = f"{ip_host}:{port}"
            pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
            name = f"[{host}]" if ":" in host else host
            host_header = name if parts.port is None else f"{name}:{parts.port}"
            remaining = deadline - (time.monotonic() - started)
            if remaining <= 0:
                raise FetchError(f"gave up after {deadline:.0f}s", url=current)
            try:
                request = client.build_request(
                    method,
                    pinned,
                    headers={**request_headers, "Host": host_header},
                    content=content,
                    data=data,
                    json=json,
                    extensions={"sni_hostname": host, "timeout": _timeouts(min(timeout, remaining))},
                )
                response = client.send(request, stream=True)
            except httpx.ConnectTimeout:
                raise FetchError(f"timed out connecting to {host}", url=current) from None
            except httpx.TimeoutException:
                # Connected, then the server did not take the request or answer in time.
                raise FetchError(
                    f"timed out waiting for {host} to answer (it accepted the connection)",
                    url=current,
                    sent=True,
                ) from None
            except httpx.HTTPError as exc:
                # Sent, then the connection failed before an answer (closed by the server, say): it may have landed.
                sent = isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError)
                raise FetchError(f"cannot reach {host}: {exc}", url=current, sent=sent) from None
            try:
                if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
                    if len(redirects) >= max_redirects:
                        raise FetchError(f"more than {max_redirects} redirects", url=url)
                    location = response.headers["location"]
                    redirects.append(current)
                    following = urljoin(current, location)
                    if _origin(following) != _origin(current):
                        request_headers = {
                            k: v for k, v in request_headers.items() if k.lower() in CROSS_ORIGIN_HEADERS
                        }
                    current = following
                    status = response.status_code
                    if status == 303 or (status in {301, 302} and method == "POST"):
                        method, content, data, json = "GET", None, None, None
                    continue
                body = _read_limited(
                    response, max_bytes=max_bytes, started=started, deadline=deadline, url=current
                )
            finally:
                response.close()
            result = FetchResponse(
                url=current,
                status=response.status_code,
                headers=response.headers,
                content=body,
                redirects=tuple(redirects),
            )
            if raise_for_status and response.status_code >= 400:
                raise FetchError(
                    status_message(response.status_code, body, content_type=result.content_type),
                    url=current,
                    status=response.status_code,
                    retry_after=parse_retry_after(response.headers.get("retry-after"))
                    if response.status_code in {429, 503}
                    else None,
                )
            return result


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None  # refused by the next hop's own check
    return parts.scheme, (parts.hostname or "").lower(), port


def _timeouts(seconds: float) -> dict[str, float]:
    return {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}


class _Inflater:
    """One gzip or deflate content-coding, decoded chunk by chunk with a cap on what each chunk may give, so a
    small compressed body cannot be made to expand in memory beyond the fetch's byte limit."""

    def __init__(self, encoding: str) -> None:
        self.may_be_raw = encoding == "deflate"
        # gzip (and its old name x-gzip) has a gzip header; HTTP's "deflate" should be zlib-wrapped, but some
        # servers send raw deflate: tried as that when the zlib header is not there (as browsers do).
        self.inflater = zlib.decompressobj(
            zlib.MAX_WBITS | 16 if encoding in GZIP_CODINGS else zlib.MAX_WBITS
        )
        self.started = False

    def decode(self, data: bytes, budget: int) -> bytes:
        """At most `budget` decoded bytes of `data` (exactly `budget` means: more was there)."""
        try:
            out = self.inflater.decompress(data, budget)
        except zlib.error:
            if not self.may_be_raw or self.started:
                raise
            self.may_be_raw = False
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self.inflater.decompress(data, budget)
        self.started = True
        return out

    def finish(self, budget: int) -> bytes:
        return self.inflater.decompress(b"", budget) if not self.inflater.eof else b""


GZIP_CODINGS = frozenset({"gzip", "x-gzip"})
READ_CODINGS = GZIP_CODINGS | {"deflate"}


def _inflater(response: httpx.Response, url: str) -> _Inflater | None:
    """The decoder of the response's Content-Encoding (None: not compressed). Only what the fetcher asks for
    (gzip, deflate), once: a body compressed twice ("gzip, gzip") turns a few hundred bytes into gigabytes in
    one step, which is why the fetcher decodes by itself rather than through httpx (whose decoders inflate
    each chunk in full, and every layer of it)."""
    codings = [
        c.strip().lower()
        for c in response.headers.get("content-encoding", "").split(",")
        if c.strip() and c.strip().lower() != "identity"
    ]
    if not codings:
        return None
    if len(codings) > 1 or codings[0] not in READ_CODINGS:
        raise FetchError(
            f"the response is compressed as {', '.join(codings)}; only gzip or deflate, once, is read",
            url=url,
        )
    return _Inflater(codings[0])


def _read_limited(
    response: httpx.Response, *, max_bytes: int, started: float, deadline: float, url: str
) -> bytes:
    declared = response.headers.get("content-length")
    inflater = _inflater(response, url)
    if declared and declared.isdecimal() and int(declared) > max_bytes and inflater is None:
        raise FetchError(f"response is {int(declared)} bytes, over the {max_bytes}-byte limit", url=url)
    chunks: list[bytes] = []
    total = 0

    def keep(chunk: bytes) -> None:
        nonlocal total
        total += len(chunk)
        if total > max_bytes:
            raise FetchError(f"response is over the {max_bytes}-byte limit", url=url)
        chunks.append(chunk)

    decode: Callable[[bytes], bytes] = (
        (lambda raw: raw) if inflater is None else (lambda raw: inflater.decode(raw, max_bytes - total + 1))
    )
    try:
        for raw in response.iter_raw():  # the body as sent: decoded here, within the limit
            keep(decode(raw))
            if time.monotonic() - started > deadline:
                raise FetchError(f"gave up reading after {deadline:.0f}s", url=url, sent=True)
        if inflater is not None:
            keep(inflater.finish(max_bytes - total + 1))
    except zlib.error as exc:
        raise FetchError(f"the response's compressed body cannot be read: {exc}", url=url) from None
    except httpx.TimeoutException:
        raise FetchError("timed out reading the response", url=url, sent=True) from None
    except httpx.HTTPError as exc:
        raise FetchError(f"the response was cut short: {exc}", url=url, sent=True) from None
    return b"".join(chunks)


def status_message(status: int, body: bytes | str, *, content_type: str = "") -> str:
    """One line for an HTTP error: "HTTP 404 Not Found", with a short excerpt of the body when it is not a web
    page (see `_error_excerpt`)."""
    reason = httpx.codes.get_reason_phrase(status) or "error"
    excerpt = _error_excerpt(body, content_type=content_type)
    return f"HTTP {status} {reason}" + (f": {excerpt}" if excerpt else "")


def _error_excerpt(body: bytes | str, *, content_type: str = "", limit: int = ERROR_EXCERPT_CHARS) -> str:
    """A short, one-line excerpt of an error response's body for a message, or "" when the body is a web page
    (HTML or other markup: an error page's source says nothing a person can act on) or empty."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = " ".join(text[: limit * 4].split())
    if not text or text.startswith("<") or "html" in content_type.lower() or "xml" in content_type.lower():
        return ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- requests sessions for platform client libraries (Mastodon.py, praw, tweepy) ---------------------------


def _pinned_pool_classes() -> dict[str, Any]:
    """urllib3 connection pools whose connections check the host's addresses and connect to the checked one
    (TLS still verifies the certificate against the host name), so every connection — redirects included —
    is guarded and a second DNS answer cannot move it."""

    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
    from urllib3.util import connection as urllib3_connection

    class PinnedMixin:
        host: str
        port: int
        timeout: Any
        source_address: Any
        socket_options: Any

        def _new_conn(self) -> socket.socket:
            address = checked_address(self.host, self.port)
            try:
                return urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
            except OSError as exc:
                raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc  # type: ignore[arg-type]

    class PinnedHTTPConnection(PinnedMixin, HTTPConnection):
        pass

    class PinnedHTTPSConnection(PinnedMixin, HTTPSConnection):
        pass

    class PinnedHTTPPool(HTTPConnectionPool):
        ConnectionCls = PinnedHTTPConnection

    class PinnedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPSConnection

    return {"http": PinnedHTTPPool, "https": PinnedHTTPSPool}


CREATING_METHODS = frozenset({"POST", "PATCH"})


def unanswered(method: str, exc: FetchError) -> bool:
    """Whether a request that creates something (POST, PATCH) went out and got no answer (`FetchError.sent`):
    the platform may have carried it out, so it must not be sent again blindly (`OutcomeUnknown`)."""
    return method.upper() in CREATING_METHODS and exc.sent


def request_sent(exc: BaseException | None) -> bool:
    """`FetchError.sent` for an error of `requests` (what a `guarded_requests_session` raises, through a client
    library): the request went out and no answer came back (a read timeout, a connection dropped after
    sending); not a connection that was never made."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        inner = exc.args[0] if exc.args else None
        reason = getattr(inner, "reason", inner)
        return not isinstance(reason, NewConnectionError | ConnectTimeoutError)
    return isinstance(exc, requests.Timeout | requests.exceptions.ChunkedEncodingError)


@functools.cache
def unanswered_request_class() -> type[requests.Timeout]:
    """`UnansweredRequest`, what a `guarded_requests_session` raises for a request that creates something and
    went out without an answer: a `requests.Timeout`, so `request_sent` says so, but none of the errors client
    libraries retry on their own (prawcore retries a ReadTimeout): only the caller may try it again, with a
    `SendKey`. Made on first use, as requests is imported only by the clients built on it."""
    import requests

    class UnansweredRequest(requests.Timeout):
        pass

    return UnansweredRequest


def guarded_requests_session() -> Any:
    """A `requests.Session` for platform client libraries (Mastodon.py, praw, tweepy): every connection, redirects
    included, is refused unless the host resolves to public addresses (per SERVICEPULSE_FETCH_ALLOW_PRIVATE
    and SERVICEPULSE_FETCH_ALLOW_NETWORKS), and is made to the address that was checked. A request that creates
    something (POST, PATCH) and gets no answer in time raises `unanswered_request_class()`, which the library does not
    retry."""
    import requests
    from requests.adapters import HTTPAdapter

    pool_classes = _pinned_pool_classes()
    unanswered_request = unanswered_request_class()

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pool_classes

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            _split_checked(request.url)  # http(s) only, no credentials in the URL
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = DEFAULT_TIMEOUT
            try:
                return super().send(request, *args, **kwargs)
            except (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError) as exc:
                # The server read the request and did not answer (in full). A connection closed before any
                # answer is left to the library's retry: far more often a stale kept-alive connection, which
                # the server closed without reading the request, than a post made.
                if request.method in CREATING_METHODS:
                    raise unanswered_request(exc, request=request) from exc
                raise

    session = requests.Session()
    session.trust_env = False
    session.max_redirects = DEFAULT_MAX_REDIRECTS
    adapter = GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def websocket_target(url: str) -> tuple[str, int, str]:
    """(host, port, checked address) of a ws:// or wss:// URL, refusing non-public addresses like `fetch`."""
    parts = urlsplit(url)
    if parts.scheme not in WEBSOCKET_SCHEMES or not parts.hostname:
        raise FetchError(f"not a WebSocket URL: {url}", url=url)
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    return parts.hostname, port, checked_address(parts.hostname, port)
