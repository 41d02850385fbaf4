"""Talking to a Discourse forum: latest posts (`GET /posts.json`, paged back with `before=<post id>`) and
replies (`POST /posts.json` with `topic_id`, `raw`, `reply_to_post_number`).

The forum's address is typed in by a user, so every request goes through the guarded fetcher (httpx with
address, size and time limits). An API key (`Api-Key` and `Api-Username` headers) is needed only for
private categories and for replies; public categories are read anonymously.
"""

from __future__ import annotations

import json
from typing import Any

from servicepulse.core.fetcher import FetchError, fetch, unanswered
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown

PLATFORM = "Discourse"


class DiscourseClient:
    def __init__(self, *, base_url: str, api_key: str = "", api_username: str = "system") -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConnectorError(f"Discourse base_url must be an http(s) address, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.headers = {"Accept": "application/json"}
        if api_key:
            self.headers.update({"Api-Key": api_key, "Api-Username": api_username or "system"})
        self.has_key = bool(api_key)

    def _call(self, method: str, path: str, *, body: dict[str, Any] | None = None) -> Any:
        try:
            response = fetch(
                self.base_url + path, method=method, headers=self.headers, json=body, raise_for_status=False
            )
        except FetchError as exc:
            if unanswered(method, exc):
                raise OutcomeUnknown(f"{PLATFORM} did not answer {method} {path}: {exc}") from None
            raise ConnectorError(f"{PLATFORM} request failed ({method} {path}): {exc}") from None
        if response.status >= 400:
            raise self._error(response.status, response.content, response.headers.get("retry-after"))
        try:
            return json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConnectorError(f"{PLATFORM} answered {path} with a body that is not JSON ({exc})") from None

    def _error(self, status: int, content: bytes, retry_after: str | None) -> ConnectorError:
        from servicepulse.core.fetcher import parse_retry_after

        message = f"HTTP {status}"
        wait = parse_retry_after(retry_after)
        try:
            payload = json.loads(content)
            errors = payload.get("errors")
            if isinstance(errors, list) and errors:
                message = f"{message}: {'; '.join(str(e) for e in errors)}"
            extras = payload.get("extras")
            if (
                wait is None
                and isinstance(extras, dict)
                and isinstance(extras.get("wait_seconds"), int | float)
            ):
                wait = float(extras["wait_seconds"])
        except (ValueError, AttributeError):
            pass
        if status == 429:
            return ConnectorError(f"{PLATFORM} rate limit: {message}", retry_after=wait or 60.0)
        if status >= 500:
            return ConnectorError(f"{PLATFORM} server error: {message}", retry_after=wait)
        return ConnectorError(f"{PLATFORM} refused the request: {message}")

    def latest_posts(self, *, before: int | None = None) -> list[Any]:
        path = "/posts.json" + (f"?before={before}" if before else "")
        payload = self._call("GET", path)
        posts = payload.get("latest_posts") if isinstance(payload, dict) else None
        if not isinstance(posts, list):
            raise ConnectorError(f"{PLATFORM} /posts.json has no latest_posts list")
        return posts

    def create_post(self, *, topic_id: int, raw: str, reply_to_post_number: int | None) -> dict[str, Any]:
        if not self.has_key:
            raise ConnectorError("replying on Discourse needs an api_key (and api_username) on the source")
        body: dict[str, Any] = {"topic_id": topic_id, "raw": raw}
        if reply_to_post_number:
            body["reply_to_post_number"] = reply_to_post_number
        payload = self._call("POST", "/posts.json", body=body)
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), int):
            raise ConnectorError(f"{PLATFORM} accepted the reply but returned no post id")
        return payload
