"""Slack message objects -> MentionData.

Shapes (Slack API docs): the Events API envelope `{"type": "event_callback", "team_id", "api_app_id",
"event": {...}, "event_id", "event_time", "authorizations"}` whose inner `message` event has `channel`,
`user`, `text`, `ts`, `thread_ts` (in threads), `channel_type`, and a `subtype` for edits, joins, bot
posts and other system messages; and the message objects of `conversations.history` (the same fields,
without `channel`). Only people's messages become mentions: bot posts and system subtypes return None.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicepulse.mentions.services import MentionData
from servicepulse.sources.registry import PayloadError

# Subtypes that still carry a person's words. Everything else (message_changed, message_deleted,
# channel_join, bot_message, ...) is not a new post by a person.
PERSON_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}


class ParseError(PayloadError):
    pass


def ts_to_datetime(ts: Any) -> datetime:
    if not isinstance(ts, str) or not ts.strip():
        raise ParseError("ts is missing or not a string")
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ParseError(f"ts {ts!r} is not a Slack timestamp") from None


def message_url(workspace_url: str, channel: str, ts: str, thread_ts: str = "") -> str:
    if not workspace_url:
        return ""
    url = f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
    return f"{url}?thread_ts={thread_ts}&cid={channel}" if thread_ts and thread_ts != ts else url


def parse_message(message: Any, *, channel: str = "", workspace_url: str = "") -> MentionData | None:
    if not isinstance(message, dict):
        raise ParseError(f"message must be an object, got {type(message).__name__}")
    if message.get("type", "message") != "message":
        return None
    subtype = message.get("subtype")
    if subtype is not None and not isinstance(subtype, str):
        raise ParseError("subtype must be a string")
    if subtype not in PERSON_SUBTYPES or message.get("bot_id"):
        return None
    channel = message.get("channel") or channel
    if not isinstance(channel, str) or not channel:
        raise ParseError("message has no channel")
    ts = message.get("ts")
    created_at = ts_to_datetime(ts)
    text = message.get("text")
    if not isinstance(text, str):
        raise ParseError(f"text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("text is empty")
    user = message.get("user")
    if not isinstance(user, str) or not user:
        raise ParseError("message has no user")
    thread_ts = message.get("thread_ts")
    thread_ts = thread_ts if isinstance(thread_ts, str) else ""
    root = thread_ts or str(ts)
    return MentionData(
        external_id=f"{channel}:{ts}",
        text=text,
        created_at=created_at,
        author=user,
        author_id=user,
        url=message_url(workspace_url, channel, str(ts), thread_ts),
        in_reply_to=f"{channel}:{thread_ts}" if thread_ts and thread_ts != ts else "",
        thread_id=f"{channel}:{root}",
        raw={**message, "channel": channel},
    )
