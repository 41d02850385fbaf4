"""Talking to Slack with slack_sdk's WebClient: channel history for backfill and threaded replies.

`api_base_url` points the client elsewhere (tests use a loopback replay server), so the client's requests go
through the guarded fetcher: the bot token is never sent to a private address. Slack's refusals come back
as `SlackApiError` with the response; a 429 carries `Retry-After` in seconds (Slack rate-limit docs).
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any
from urllib.request import Request

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from servicepulse.core.fetcher import FetchError, fetch, parse_retry_after
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown

DEFAULT_BASE_URL = "https://slack.com/api/"


def _translate(exc: Exception, action: str) -> ConnectorError:
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", None)
        error = response.get("error") if hasattr(response, "get") else None
        if status == 429:
            wait = parse_retry_after(
                (response.headers or {}).get("Retry-After") or (response.headers or {}).get("retry-after")
            )
            return ConnectorError(f"Slack rate limit on {action}", retry_after=wait or 60.0)
        if status and status >= 500:
            return ConnectorError(f"Slack server error on {action} (HTTP {status})")
        return ConnectorError(f"Slack refused {action}: {error or exc}")
    return ConnectorError(f"Slack {action} failed: {exc}")


SLACK_ERRORS = (SlackApiError, SlackClientError, FetchError, ValueError, OSError, http.client.HTTPException)


class GuardedWebClient(WebClient):
    """slack_sdk's WebClient with every request made by the guarded fetcher instead of urllib. slack_sdk has
    no transport option; this method is where it opens the URL (its retry handling and response parsing
    around it are unchanged)."""

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        # urllib stores names as "Content-type"; send the usual spelling (and one User-Agent, slack_sdk's).
        headers = {
            name.title(): str(value) for name, value in req.header_items() if name.lower() != "content-length"
        }
        body = req.data if isinstance(req.data, bytes) else None
        response = fetch(
            url,
            method=req.get_method(),
            headers=headers,
            content=body,
            timeout=float(self.timeout),
            raise_for_status=False,
        )
        return {"status": response.status, "headers": response.headers, "body": response.text}


class SlackClient:
    def __init__(self, *, token: str, base_url: str = DEFAULT_BASE_URL, timeout: int = 20) -> None:
        if not token:
            raise ConnectorError("no bot_token configured for this Slack source")
        base = base_url if base_url.endswith("/") else base_url + "/"
        self.web = GuardedWebClient(token=token, base_url=base, timeout=timeout)

    def history(
        self, *, channel: str, oldest: str, max_pages: int, latest: str | None = None
    ) -> Iterator[tuple[list[dict[str, Any]], bool]]:
        """Each `conversations.history` page newer than `oldest` (and older than `latest`, when given),
        newest first, following the `next_cursor`; with each page, whether more remain after it (True on
        the last page yielded only when `max_pages` ran out)."""
        cursor: str | None = None
        for _ in range(max_pages):
            try:
                response = self.web.conversations_history(
                    channel=channel, oldest=oldest, latest=latest, limit=200, cursor=cursor
                )
            except SLACK_ERRORS as exc:
                raise _translate(exc, f"conversations.history for {channel}") from None
            messages = response.get("messages")
            if not isinstance(messages, list):
                raise ConnectorError(f"Slack conversations.history for {channel} has no messages list")
            meta = response.get("response_metadata") or {}
            cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
            more = bool(response.get("has_more") and cursor)
            yield messages, more
            if not more:
                return

    def post_reply(self, *, channel: str, thread_ts: str, text: str) -> str:
        try:
            response = self.web.chat_postMessage(channel=channel, text=text, thread_ts=thread_ts)
        except SLACK_ERRORS as exc:
            if isinstance(exc, FetchError) and exc.sent:
                # Sent, and no answer: Slack may have posted it (it has no idempotency key to ask again with).
                raise OutcomeUnknown(f"Slack chat.postMessage: {exc}") from None
            raise _translate(exc, "chat.postMessage") from None
        ts = response.get("ts")
        if not isinstance(ts, str):
            raise ConnectorError("Slack accepted the reply but returned no ts")
        return ts
