"""Talking to a Mastodon server: REST through Mastodon.py (on a guarded requests session), the streaming API
over WebSocket through `websockets`.

Tests point `api_base_url` (and `streaming_url`) at a loopback replay server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from servicepulse.core.fetcher import (
    FetchError,
    guarded_requests_session,
    parse_retry_after,
    request_sent,
)
from servicepulse.sources.connectors.mastodon.parse import plain
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown
from servicepulse.sources.websocket import websocket_messages

PAGE_SIZE = 40
TIMEOUT = 15.0


class MastodonClient:
    def __init__(self, *, api_base_url: str, access_token: str = "") -> None:
        from mastodon import Mastodon

        self.api_base_url = api_base_url.rstrip("/")
        self.access_token = access_token
        self._last_headers: dict[str, str] = {}
        session = guarded_requests_session()

        def remember(response: Any, *args: Any, **kwargs: Any) -> None:
            self._last_headers = dict(response.headers)

        session.hooks["response"].append(remember)
        self.api = Mastodon(
            access_token=access_token or None,
            api_base_url=self.api_base_url,
            ratelimit_method="throw",  # we honour the server's limits ourselves: Retry-After, then back-off
            request_timeout=TIMEOUT,
            # The version is declared (no instance request per client) and checked in "created" mode, the
            # only mode that also sets it: under "none" Mastodon.py keeps 1.0.0, then refuses search's
            # min_id/max_id ("Advanced search parameters require Mastodon 2.8.0+") on every pull after the
            # first, which failed keyword feeds for good and backed off the whole source.
            version_check_mode="created",
            mastodon_version="4.3.0",
            session=session,
        )

    # --- REST -------------------------------------------------------------------------------------------

    def call(
        self, what: str, function: Callable[..., Any], *args: Any, creates: bool = False, **kwargs: Any
    ) -> Any:
        """Call `function` (a method of `api`, the Mastodon.py client) with `args` and `kwargs` and return its
        answer as plain dicts and lists. Mastodon.py's errors become ConnectorError named by `what`, with
        retry_after from the server's Retry-After or X-RateLimit-Reset when it rate limits. When the call
        `creates` something (a status) and the request went out but no answer came back, OutcomeUnknown."""
        from mastodon.errors import (
            MastodonAPIError,
            MastodonError,
            MastodonNetworkError,
            MastodonRatelimitError,
        )

        try:
            return plain(function(*args, **kwargs))
        except MastodonRatelimitError:
            retry = parse_retry_after(self._last_headers.get("Retry-After"))
            if retry is None and self._last_headers.get("X-RateLimit-Reset"):
                retry = _seconds_until(self._last_headers["X-RateLimit-Reset"])
            raise ConnectorError(f"{what}: rate limited by {self.api_base_url}", retry_after=retry) from None
        except MastodonAPIError as exc:
            status, reason, message = _api_error_parts(exc)
            retry = parse_retry_after(self._last_headers.get("Retry-After")) if status in (429, 503) else None
            raise ConnectorError(f"{what}: HTTP {status} {reason}: {message}", retry_after=retry) from None
        except FetchError as exc:
            raise ConnectorError(f"{what}: {exc}", retry_after=exc.retry_after) from None
        except MastodonNetworkError as exc:
            inner = exc.args[-1] if exc.args else exc
            if isinstance(inner, FetchError):
                raise ConnectorError(f"{what}: {inner}") from None
            if creates and request_sent(exc.__context__):
                raise OutcomeUnknown(
                    f"{what}: no answer from {self.api_base_url} in time ({_first_line(exc)}); it may have been "
                    "posted"
                ) from None
            raise ConnectorError(f"{what}: cannot reach {self.api_base_url}: {_first_line(exc)}") from None
        except MastodonError as exc:
            raise ConnectorError(f"{what}: {_first_line(exc)}") from None

    def tag_statuses(self, tag: str, *, min_id: str | None) -> list[dict[str, Any]]:
        return self.call(f"#{tag}", self.api.timeline_hashtag, tag, min_id=min_id, limit=PAGE_SIZE) or []

    def search_statuses(
        self, query: str, *, min_id: str | None, max_id: str | None = None
    ) -> list[dict[str, Any]]:
        result = self.call(
            f"search {query!r}", self.api.search_v2, query, resolve=False, result_type="statuses",
            min_id=min_id, max_id=max_id, limit=PAGE_SIZE,
        )  # fmt: skip
        return list((result or {}).get("statuses") or [])

    def mention_notifications(self, *, min_id: str | None) -> list[dict[str, Any]]:
        return (
            self.call("mentions", self.api.notifications, types=["mention"], min_id=min_id, limit=PAGE_SIZE)
            or []
        )

    def post_status(
        self, what: str, *, text: str, idempotency_key: str = "", **kwargs: Any
    ) -> dict[str, Any]:
        """POST /api/v1/statuses. With `idempotency_key` (the same on every try of one post) the server answers a
        key it has seen in the last hour with the status it made then, so a try after a timeout that was in fact
        posted is not posted again: such a try is made once at once, and OutcomeUnknown only when it too gets
        no answer (https://docs.joinmastodon.org/methods/statuses/#create, header Idempotency-Key)."""
        send = partial(
            self.call, what, self.api.status_post, text, creates=True,
            idempotency_key=idempotency_key or None, **kwargs,
        )  # fmt: skip
        try:
            return dict(send())
        except OutcomeUnknown:
            if not idempotency_key:
                raise
            return dict(send())

    def post_reply(
        self, *, text: str, in_reply_to_id: str, visibility: str, idempotency_key: str = ""
    ) -> dict[str, Any]:
        return self.post_status(
            "reply", text=text, in_reply_to_id=in_reply_to_id, visibility=visibility,
            idempotency_key=idempotency_key,
        )  # fmt: skip

    # --- streaming --------------------------------------------------------------------------------------

    def streaming_url(self, override: str = "") -> str:
        """The streaming endpoint: `override`, else the server's own (`configuration.urls.streaming` in its
        instance document: large servers stream from another host), else the API host."""
        base = override
        if not base:
            try:
                instance = self.call("instance", self.api.instance_v2) or {}
                base = str(((instance.get("configuration") or {}).get("urls") or {}).get("streaming") or "")
            except ConnectorError:
                base = ""
        parts = urlsplit(base or self.api_base_url)
        scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
        return urlunsplit((scheme, parts.netloc, "/api/v1/streaming", "", ""))

    def stream_messages(
        self, *, url: str, subscriptions: list[dict[str, str]], stop: Any, idle_timeout: float = 120.0
    ) -> Iterator[str | bytes]:
        """Yield raw messages from one WebSocket connection until it drops, `stop` is set, or nothing (not
        even a ping) arrives for `idle_timeout` seconds. Raises ConnectorError when it cannot connect.
        """
        # The token goes in the Authorization header, not the query string (which ends up in access logs).
        parts = urlsplit(url)
        full = urlunsplit((parts.scheme, parts.netloc, parts.path or "/api/v1/streaming", "", ""))
        yield from websocket_messages(
            full,
            label="streaming",
            stop=stop,
            idle_timeout=idle_timeout,
            poll=1.0,
            timeout=TIMEOUT,
            max_size=2**22,
            headers={"Authorization": f"Bearer {self.access_token}"} if self.access_token else None,
            send_first=[json.dumps({"type": "subscribe", **subscription}) for subscription in subscriptions],
        )


def _api_error_parts(exc: Exception) -> tuple[Any, str, str]:
    args = list(exc.args) + [None] * 4
    status, reason, message = args[1], args[2] or "", args[3] or args[0] or ""
    return status, str(reason), str(message)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def _seconds_until(value: str) -> float | None:
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            return max(0.0, float(value) - time.time())
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())
