"""Talking to Bluesky: the Jetstream WebSocket through `websockets`, replies (and the blog's cross-posts)
through the `atproto` client.

Tests point `jetstream_url` and `pds_url` at loopback replay servers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from servicepulse.core.fetcher import FetchError, fetch, parse_rate_limit_reset, parse_retry_after, unanswered
from servicepulse.sources.connectors.bluesky.parse import POST
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown, SendKey
from servicepulse.sources.websocket import websocket_messages

if TYPE_CHECKING:
    from atproto import Session, SessionEvent

DEFAULT_JETSTREAM = "wss://jetstream2.us-east.bsky.network/subscribe"
DEFAULT_PDS = "https://bsky.social"
TIMEOUT = 15.0
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable (https://atproto.com/specs/tid)


def subscribe_url(base: str, *, cursor: int | None) -> str:
    """The Jetstream URL from `cursor` on (`base` may be given as http(s) for the same host, as for Mastodon)."""
    parts = urlsplit(base)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    params: list[tuple[str, str]] = [("wantedCollections", POST)]
    if cursor is not None:
        params.append(("cursor", str(cursor)))
    return urlunsplit((scheme, parts.netloc, parts.path or "/subscribe", urlencode(params), ""))


def jetstream_messages(*, url: str, stop: Any, idle_timeout: float = 60.0) -> Iterator[str]:
    """Yield raw messages from one Jetstream connection until it closes, `stop` is set or it goes quiet
    for `idle_timeout` seconds. Raises ConnectorError when it cannot connect."""
    for message in websocket_messages(
        url,
        label="jetstream",
        stop=stop,
        idle_timeout=idle_timeout,
        poll=0.5,
        timeout=TIMEOUT,
        max_size=2**21,
        max_queue=1024,
    ):
        yield message if isinstance(message, str) else message.decode("utf-8", errors="replace")


def _guarded_request_class() -> type[Any]:
    """atproto's Request with every call made by the guarded fetcher: the PDS's address is checked and the
    connection made to that checked address (a second DNS answer cannot move it to a private one, as it could
    when httpx connected by name after a check), redirects included, with the fetcher's size and time limits."""
    import httpx
    from atproto_client.request import Request, _handle_response

    class GuardedRequest(Request):
        def _send_request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
            headers = self.get_headers(kwargs.pop("headers", None))
            params = kwargs.pop("params", None)
            if params:
                url = str(httpx.URL(url).copy_merge_params(params))
            body = kwargs.pop("content", None)
            data = kwargs.pop("data", None)
            if body is None and isinstance(data, bytes | str):
                body, data = data, None  # a blob upload
            try:
                fetched = fetch(
                    url,
                    method=method,
                    headers=headers,
                    content=body.encode("utf-8") if isinstance(body, str) else body,
                    data=data,
                    json=kwargs.pop("json", None),
                    timeout=TIMEOUT,
                    raise_for_status=False,
                )
            except FetchError as exc:
                if unanswered(method, exc):
                    raise OutcomeUnknown(f"bluesky: {exc}") from None
                raise ConnectorError(f"bluesky: {exc}", retry_after=exc.retry_after) from None
            # The fetcher hands back the decoded body: drop the headers that describe the encoded one.
            kept = [
                (name, value)
                for name, value in fetched.headers.multi_items()
                if name.lower() not in {"content-encoding", "content-length", "transfer-encoding"}
            ]
            return _handle_response(httpx.Response(fetched.status, headers=kept, content=fetched.content))

    return GuardedRequest


class PdsClient:
    """The atproto client on an account's PDS: every request made by the guarded fetcher, signed in with an app
    password by `login`. `api` is the atproto Client; run its calls through `call`."""

    def __init__(self, *, pds_url: str) -> None:
        from atproto import Client

        self.pds_url = pds_url
        self._did: str | None = None
        self.api = Client(base_url=pds_url, request=_guarded_request_class()(trust_env=False))
        self.api.on_session_change(self._remember_session)

    def _remember_session(self, event: SessionEvent, session: Session) -> None:
        self._did = session.did

    @property
    def did(self) -> str | None:
        """The signed-in account's DID (None before `login`): the repo its posts are written to."""
        return self._did

    def login(self, *, handle: str, app_password: str) -> None:
        """Sign in with an app password (createSession only: no profile lookup)."""
        self.call(lambda: self.api.login(handle, app_password, fetch_bsky_profile=False), where=self.pds_url)

    def call(self, function: Callable[[], Any], *, where: str, creates: bool = False) -> Any:
        """Run `function` (calls on `api`) and return its answer. atproto's errors become ConnectorError: an
        HTTP error with the server's message (retry_after from Retry-After or RateLimit-Reset on a 429), a
        network failure naming `where` it could not reach; OutcomeUnknown when the call `creates` a record and
        the request went out but no answer came back."""
        from atproto.exceptions import AtProtocolError, NetworkError, RequestException

        try:
            return function()
        except OutcomeUnknown as exc:
            if creates:
                raise
            raise ConnectorError(str(exc)) from None
        except RequestException as exc:
            response = getattr(exc, "response", None)
            status = getattr(response, "status_code", None)
            content = getattr(response, "content", None)
            message = (
                getattr(content, "message", None) or getattr(content, "error", None) or str(content or exc)
            )
            retry = None
            headers = getattr(response, "headers", None) or {}
            if status == 429:
                retry = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
                reset = headers.get("ratelimit-reset") or headers.get("RateLimit-Reset")
                if retry is None:
                    retry = parse_rate_limit_reset(reset)
            raise ConnectorError(f"bluesky: HTTP {status}: {message}", retry_after=retry) from None
        except NetworkError as exc:
            raise ConnectorError(f"bluesky: cannot reach {where}: {exc}") from None
        except AtProtocolError as exc:
            raise ConnectorError(f"bluesky: {exc}") from None


def record_key(key: SendKey) -> str:
    """The post's record key: a TID (13 base32-sortable characters: 53 bits of microseconds, 10 of clock id)
    that is the same for every try of one post and differs between posts. Its time is `key.first_try` (to the
    second; the microseconds and the clock id come from a hash of `key.name`), so it reads as when the post was
    first sent, as a PDS expects of a post's TID."""
    digest = int.from_bytes(hashlib.sha256(key.name.encode()).digest()[:8], "big")
    micros = int(key.first_try.timestamp()) * 1_000_000 + digest % 1_000_000
    value = (micros << 10) | (digest >> 40) % 1024  # the top bit stays 0 until the year 287,000
    return "".join(TID_ALPHABET[(value >> (5 * shift)) & 31] for shift in reversed(range(13)))


def create_post(client: PdsClient, *, record: Any, key: SendKey | None) -> dict[str, str]:
    """Write `record` (an app.bsky.feed.post) with com.atproto.repo.createRecord. Returns {"uri", "cid"}.

    With `key` the record key is `record_key(key)`, so a try after a timeout cannot make a second post: when
    the first was in fact written, createRecord refuses the key already taken (the reference PDS has answered
    that with HTTP 500, newer ones with an error of its own), and the post under that key is read back
    (com.atproto.repo.getRecord) and returned as the one sent. A try without an answer is made once more at
    once; OutcomeUnknown only when that too gets none."""
    repo = str(client.did)
    rkey = record_key(key) if key else None

    def create() -> dict[str, str]:
        try:
            response = client.call(
                lambda: client.api.app.bsky.feed.post.create(repo, record, rkey=rkey),
                where=client.pds_url,
                creates=True,
            )
        except OutcomeUnknown:
            raise
        except ConnectorError:
            existing = _post_at(client, repo=repo, rkey=rkey) if rkey else None
            if existing is None:
                raise
            return existing
        return {"uri": response.uri, "cid": response.cid}

    try:
        return create()
    except OutcomeUnknown:
        if rkey is None:
            raise
        return create()


def _post_at(client: PdsClient, *, repo: str, rkey: str) -> dict[str, str] | None:
    """The post under `rkey` in `repo` ({"uri", "cid"}), or None when there is none (or it cannot be read)."""
    try:
        found = client.call(lambda: client.api.app.bsky.feed.post.get(repo, rkey), where=client.pds_url)
    except ConnectorError:
        return None
    return {"uri": str(found.uri), "cid": str(found.cid)} if found.uri and found.cid else None


def post_reply(
    *, pds_url: str, handle: str, app_password: str, text: str, parent: dict[str, str], root: dict[str, str],
    key: SendKey | None = None,
) -> dict[str, str]:  # fmt: skip
    """Sign in with an app password and post `text` as a reply (see `create_post` for `key`). Returns
    {"uri", "cid"}."""
    from atproto import models

    client = PdsClient(pds_url=pds_url)
    client.login(handle=handle, app_password=app_password)
    reply_to = models.AppBskyFeedPost.ReplyRef(
        parent=models.ComAtprotoRepoStrongRef.Main(uri=parent["uri"], cid=parent["cid"]),
        root=models.ComAtprotoRepoStrongRef.Main(uri=root["uri"], cid=root["cid"]),
    )
    return create_post(client, record=post_record(client, text=text, reply=reply_to), key=key)


def post_record(client: PdsClient, *, text: str, **fields: Any) -> Any:
    """An app.bsky.feed.post record as atproto's send_post makes it (created now, language "en")."""
    from atproto import models

    return models.AppBskyFeedPost.Record(
        created_at=client.api.get_current_time_iso(), text=text, langs=["en"], **fields
    )
