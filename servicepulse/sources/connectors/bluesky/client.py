"""Talking to Bluesky: the Jetstream WebSocket through `websockets`, replies through the `atproto` client.

Tests point `jetstream_url` and `pds_url` at loopback replay servers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from servicepulse.core.fetcher import FetchError, checked_address, parse_retry_after
from servicepulse.sources.connectors.bluesky.parse import POST
from servicepulse.sources.registry import ConnectorError
from servicepulse.sources.websocket import websocket_messages

DEFAULT_JETSTREAM = "wss://jetstream2.us-east.bsky.network/subscribe"
DEFAULT_PDS = "https://bsky.social"
TIMEOUT = 15.0


def subscribe_url(base: str, *, cursor: int | None) -> str:
    parts = urlsplit(base)
    params: list[tuple[str, str]] = [("wantedCollections", POST)]
    if cursor is not None:
        params.append(("cursor", str(cursor)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/subscribe", urlencode(params), ""))


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


def post_reply(
    *, pds_url: str, handle: str, app_password: str, text: str, parent: dict[str, str], root: dict[str, str]
) -> dict[str, str]:
    """Sign in with an app password and post `text` as a reply. Returns {"uri", "cid"}."""
    import httpx
    from atproto import Client, models
    from atproto.exceptions import AtProtocolError, NetworkError, RequestException
    from atproto_client.request import Request

    def guard(request: httpx.Request) -> None:
        try:
            checked_address(
                request.url.host, request.url.port or (443 if request.url.scheme == "https" else 80)
            )
        except FetchError as exc:
            raise ConnectorError(f"bluesky: {exc}") from None

    client = Client(
        base_url=pds_url,
        request=Request(timeout=TIMEOUT, trust_env=False, event_hooks={"request": [guard]}),
    )
    try:
        client.login(handle, app_password, fetch_bsky_profile=False)
        reply_to = models.AppBskyFeedPost.ReplyRef(
            parent=models.ComAtprotoRepoStrongRef.Main(uri=parent["uri"], cid=parent["cid"]),
            root=models.ComAtprotoRepoStrongRef.Main(uri=root["uri"], cid=root["cid"]),
        )
        did = client._session.did if client._session else handle
        response = client.send_post(text, profile_identify=did, reply_to=reply_to)
    except RequestException as exc:
        response_obj = getattr(exc, "response", None)
        status = getattr(response_obj, "status_code", None)
        content = getattr(response_obj, "content", None)
        message = getattr(content, "message", None) or getattr(content, "error", None) or str(content or exc)
        retry = None
        headers = getattr(response_obj, "headers", None) or {}
        if status == 429:
            retry = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
            reset = headers.get("ratelimit-reset") or headers.get("RateLimit-Reset")
            if retry is None and reset and str(reset).isdigit():
                retry = max(0.0, int(reset) - time.time())
        raise ConnectorError(f"bluesky: HTTP {status}: {message}", retry_after=retry) from None
    except NetworkError as exc:
        raise ConnectorError(f"bluesky: cannot reach {pds_url}: {exc}") from None
    except AtProtocolError as exc:
        raise ConnectorError(f"bluesky: {exc}") from None
    return {"uri": response.uri, "cid": response.cid}
