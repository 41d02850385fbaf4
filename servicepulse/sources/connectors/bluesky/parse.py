"""Jetstream events -> MentionData.

Jetstream (https://github.com/bluesky-social/jetstream) sends one JSON object per WebSocket message:
`{"did", "time_us", "kind": "commit"|"identity"|"account", "commit": {"rev", "operation", "collection",
"rkey", "record", "cid"}}`. A `create` commit in `app.bsky.feed.post` is a post; its record follows the
`app.bsky.feed.post` lexicon (`text`, `createdAt`, `langs`, `reply.{root,parent}.{uri,cid}`, `facets`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicepulse.mentions.services import MentionData
from servicepulse.sources.registry import PayloadError

POST = "app.bsky.feed.post"


class Skip(Exception):
    """A valid event that is not a new post (identity, account, deletes, likes...)."""


def post_uri(did: str, rkey: str) -> str:
    return f"at://{did}/{POST}/{rkey}"


def post_url(did: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{did}/post/{rkey}"


def _created(record: dict[str, Any], time_us: int) -> datetime:
    value = record.get("createdAt")
    if isinstance(value, str) and value:
        text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise PayloadError(f"record createdAt is not an ISO 8601 time: {value!r}") from None
        if parsed.tzinfo is None:
            raise PayloadError(f"record createdAt {value!r} has no time zone")
        return parsed
    return datetime.fromtimestamp(time_us / 1_000_000, tz=UTC)


def parse_event(event: Any) -> MentionData:
    """A Jetstream event. Raises Skip for events that are not new posts, PayloadError for broken ones."""
    if not isinstance(event, dict):
        raise PayloadError(f"an event must be a JSON object, got {type(event).__name__}")
    if event.get("kind") != "commit":
        raise Skip(str(event.get("kind")))
    commit = event.get("commit")
    if not isinstance(commit, dict):
        raise PayloadError("commit event has no commit object")
    if commit.get("collection") != POST or commit.get("operation") != "create":
        raise Skip(f"{commit.get('operation')} {commit.get('collection')}")
    did, rkey, time_us = event.get("did"), commit.get("rkey"), event.get("time_us")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise PayloadError("event has no did")
    if not isinstance(rkey, str) or not rkey:
        raise PayloadError("commit has no rkey")
    if not isinstance(time_us, int):
        raise PayloadError("event has no integer time_us")
    record = commit.get("record")
    if not isinstance(record, dict):
        raise PayloadError("post commit has no record")
    text = record.get("text")
    if not isinstance(text, str):
        raise PayloadError("post record has no text")
    if not text.strip():
        raise Skip("a post without text (an image or a quote)")
    reply_value = record.get("reply")
    reply: dict[str, Any] = reply_value if isinstance(reply_value, dict) else {}
    parent = reply.get("parent") or {}
    root = reply.get("root") or {}
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    try:
        return MentionData(
            external_id=post_uri(did, rkey),
            text=text,
            created_at=_created(record, time_us),
            author=did,
            author_id=did,
            url=post_url(did, rkey),
            in_reply_to=str(parent.get("uri") or "") if isinstance(parent, dict) else "",
            thread_id=str(root.get("uri") or "") if isinstance(root, dict) else "",
            language=str(langs[0]) if langs else "",
            raw=event,
        )
    except ValueError as exc:
        raise PayloadError(str(exc)) from None
