"""Talking to the Facebook Graph API: Page feed and comments (cursor paging), replies.

The API address is a source option, so every request goes through the guarded fetcher (address, size and time
limits; the Page token is never sent to a private address).

Reference: Graph API `/{page-id}/feed`, `/{post-id}/comments` (cursor-based pagination:
`paging.cursors.after`, `paging.next` present while more pages exist), `POST /{comment-id}/comments`,
error objects `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`. When the app secret
is known every call carries `appsecret_proof` (HMAC-SHA256 of the access token keyed with the app secret),
as Meta recommends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from servicepulse.core.fetcher import FetchError, FetchResponse, fetch, parse_retry_after, unanswered
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown

PLATFORM = "Facebook Graph API"
# Graph error codes that mean "slow down": app, user, page and custom rate limits (Graph API rate limits).
RATE_LIMIT_CODES = {4, 17, 32, 613, 80001}
DEFAULT_RATE_LIMIT_WAIT = 15 * 60.0

POST_FIELDS = "id,message,created_time,from,permalink_url"
# `attachment`: a sticker or photo comment has `message` "" and its picture here; a `description`, when
# there is one, is the words it carries (https://developers.facebook.com/docs/graph-api/reference/comment/).
COMMENT_FIELDS = "id,message,created_time,from,parent{id},permalink_url,attachment{type,description}"


class GraphClient:
    def __init__(
        self,
        *,
        access_token: str,
        base_url: str = "https://graph.facebook.com",
        version: str = "v23.0",
        app_secret: str = "",
    ) -> None:
        if not access_token:
            raise ConnectorError("no page_access_token configured for this Facebook source")
        self.access_token = access_token
        self.app_secret = app_secret
        prefix = f"/{version.strip('/')}" if version else ""
        self.base_url = base_url.rstrip("/") + prefix

    def close(self) -> None:
        """Nothing to release (each call is one guarded fetch); callers close clients all the same."""

    def _auth(self) -> dict[str, str]:
        params = {"access_token": self.access_token}
        if self.app_secret:
            params["appsecret_proof"] = hmac.new(
                self.app_secret.encode(), self.access_token.encode(), hashlib.sha256
            ).hexdigest()
        return params

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:
        """One Graph API request (`params` as the query, `data` as the form body), signed with the access token
        and its `appsecret_proof`. Returns the decoded JSON object; a Graph error, a rate limit, a network
        failure, a refused address or a body that is not a JSON object raises ConnectorError (retry_after on
        rate limits)."""
        query = urlencode({**(params or {}), **self._auth()})
        try:
            response = fetch(
                f"{self.base_url}{path}?{query}",
                method=method,
                headers={"Accept": "application/json"},
                data=data,
                raise_for_status=False,
            )
        except FetchError as exc:
            # The message names the host, never the URL: its query holds the access token.
            if unanswered(method, exc):
                raise OutcomeUnknown(f"{PLATFORM} did not answer {method} {path}: {exc}") from None
            raise ConnectorError(f"{PLATFORM} request failed ({method} {path}): {exc}") from None
        if response.status >= 400:
            raise self._error(response)
        try:
            payload = json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConnectorError(
                f"{PLATFORM} answered {response.status} with a body that is not JSON ({exc})"
            ) from None
        if not isinstance(payload, dict):
            raise ConnectorError(f"{PLATFORM} answered with {type(payload).__name__}, not an object")
        return payload

    def _error(self, response: FetchResponse) -> ConnectorError:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        message, code = f"HTTP {response.status}", None
        try:
            error = json.loads(response.content).get("error", {})
            if isinstance(error, dict):
                message = f"{error.get('message') or message} (code {error.get('code')}, {error.get('type')})"
                code = error.get("code")
        except (ValueError, AttributeError):
            pass
        if response.status == 429 or code in RATE_LIMIT_CODES:
            return ConnectorError(
                f"{PLATFORM} rate limit: {message}", retry_after=wait or DEFAULT_RATE_LIMIT_WAIT
            )
        if response.status >= 500:
            return ConnectorError(f"{PLATFORM} server error: {message}", retry_after=wait)
        return ConnectorError(f"{PLATFORM} refused the request: {message}")

    def paged(self, path: str, params: dict[str, Any], *, max_pages: int) -> Iterator[list[Any]]:
        """Each page's `data` list, following `paging.cursors.after` while `paging.next` shows more."""
        query = dict(params)
        for _ in range(max_pages):
            payload = self.call("GET", path, params=query)
            data = payload.get("data")
            if not isinstance(data, list):
                raise ConnectorError(f"{PLATFORM} page for {path} has no data list")
            yield data
            paging = payload.get("paging") if isinstance(payload.get("paging"), dict) else {}
            after = (
                (paging.get("cursors") or {}).get("after")
                if isinstance(paging.get("cursors"), dict)
                else None
            )
            if not paging.get("next") or not after:
                return
            query["after"] = after

    def page_feed(self, *, page_id: str, since: int, max_pages: int) -> Iterator[list[Any]]:
        return self.paged(
            f"/{page_id}/feed", {"fields": POST_FIELDS, "since": since, "limit": 25}, max_pages=max_pages
        )

    def comments(self, *, object_id: str, max_pages: int) -> Iterator[list[Any]]:
        """Newest first: on a thread longer than `max_pages` pages, what is cut off is the oldest comments
        (read by earlier pulls), never the new ones (`order=reverse_chronological`, Graph API
        `/{object-id}/comments`)."""
        params = {
            "fields": COMMENT_FIELDS,
            "filter": "stream",
            "order": "reverse_chronological",
            "limit": 100,
        }
        return self.paged(f"/{object_id}/comments", params, max_pages=max_pages)

    def comment(self, *, object_id: str, message: str) -> str:
        """Post `message` as a comment on a post or a reply to a comment; returns the new comment's id."""
        payload = self.call("POST", f"/{object_id}/comments", data={"message": message})
        new_id = payload.get("id")
        if not isinstance(new_id, str):
            raise ConnectorError(f"{PLATFORM} accepted the comment but returned no id")
        return new_id
