"""Mastodon payloads -> MentionData.

A Status entity (https://docs.joinmastodon.org/entities/Status/) becomes a mention: its id, its HTML
`content` as plain text (with the content warning first), its account, `url`, `created_at`, `in_reply_to_id`
and `language`. Boosts (`reblog` set) are not new words and are skipped; a Notification
(https://docs.joinmastodon.org/entities/Notification/) of type `mention` carries its status. Streaming
messages (https://docs.joinmastodon.org/methods/streaming/) are `{"stream": [...], "event": ..., "payload":
"<JSON string>"}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from servicepulse.mentions.services import MentionData
from servicepulse.sources.registry import PayloadError
from servicepulse.sources.text import html_to_text


class Skip(Exception):
    """A valid payload that is not a mention."""


def plain(value: Any) -> Any:
    """A JSON-ready copy of what Mastodon.py returned (its entities are dicts with datetimes)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if not str(k).startswith("_mastopy")}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise PayloadError(f"created_at is not an ISO 8601 time: {value!r}") from None
    else:
        raise PayloadError("status has no created_at")
    if parsed.tzinfo is None:
        raise PayloadError(f"created_at {value!r} has no time zone")
    return parsed


def parse_status(status: Any) -> MentionData:
    """One Status entity. Raises Skip for boosts, PayloadError when it cannot be a mention."""
    if not isinstance(status, dict):
        raise PayloadError(f"a status must be a JSON object, got {type(status).__name__}")
    if status.get("reblog"):
        raise Skip("a boost")
    status_id = status.get("id")
    if status_id in (None, ""):
        raise PayloadError("status has no id")
    account = status.get("account")
    if not isinstance(account, dict):
        raise PayloadError("status has no account object")
    content = html_to_text(str(status.get("content") or ""))
    warning = str(status.get("spoiler_text") or "").strip()
    text = f"{warning}\n\n{content}".strip() if warning else content
    if not text:
        raise PayloadError("status has no text")
    raw = plain(status)
    try:
        return MentionData(
            external_id=str(status_id),
            text=text,
            created_at=_time(status.get("created_at")),
            author=str(account.get("acct") or account.get("username") or ""),
            author_id=str(account.get("id") or ""),
            url=str(status.get("url") or status.get("uri") or ""),
            in_reply_to=str(status.get("in_reply_to_id") or ""),
            language=str(status.get("language") or ""),
            raw=raw,
        )
    except ValueError as exc:
        raise PayloadError(str(exc)) from None


def parse_notification(notification: Any) -> MentionData:
    if not isinstance(notification, dict):
        raise PayloadError(f"a notification must be a JSON object, got {type(notification).__name__}")
    if notification.get("type") != "mention":
        raise Skip(f"a {notification.get('type')} notification")
    status = notification.get("status")
    if not isinstance(status, dict):
        raise PayloadError("mention notification has no status")
    return parse_status(status)


@dataclass(frozen=True)
class StreamEvent:
    stream: tuple[str, ...]
    event: str
    payload: Any


def parse_stream_message(message: str | bytes) -> StreamEvent:
    """One WebSocket message. The payload of `update`/`notification`/`status.update` is decoded JSON."""
    try:
        data = json.loads(message)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PayloadError(f"stream message is not JSON ({exc})") from None
    if not isinstance(data, dict) or "event" not in data:
        raise PayloadError("stream message has no event")
    payload = data.get("payload")
    if not isinstance(data["event"], str):
        raise PayloadError("stream message event must be a string")
    if data["event"] in {"update", "notification", "status.update"}:
        if not isinstance(payload, str):
            raise PayloadError(f"{data['event']} payload must be a JSON string")
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise PayloadError(
                f"{data['event']} payload is not JSON ({exc.msg} at column {exc.colno})"
            ) from None
    stream_value = data.get("stream")
    stream: list[Any] = stream_value if isinstance(stream_value, list) else []
    return StreamEvent(stream=tuple(str(s) for s in stream), event=str(data["event"]), payload=payload)
