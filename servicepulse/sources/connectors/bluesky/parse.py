"""Jetstream events -> MentionData.

Jetstream (https://github.com/bluesky-social/jetstream) sends one JSON object per WebSocket message:
`{"did", "time_us", "kind": "commit"|"identity"|"account", "commit": {"rev", "operation", "collection",
"rkey", "record", "cid"}}`. A `create` commit in `app.bsky.feed.post` is a post; its record follows the
`app.bsky.feed.post` lexicon (`text`, `createdAt`, `langs`, `reply.{root,parent}.{uri,cid}`, `facets`,
`embed`). A post may have empty `text` and only pictures: `embed` `app.bsky.embed.images` (`images[].alt`,
required, may be ""), `app.bsky.embed.video` (`alt`), or `app.bsky.embed.recordWithMedia` (a quote with
either as `media`) — https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/images.json
(and `video.json`, `recordWithMedia.json` beside it). Their alt texts are what there is to read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicepulse.mentions.services import MentionData
from servicepulse.sources.registry import PayloadError

POST = "app.bsky.feed.post"


class Skip(Exception):
    """A valid event that is not a new post (identity, account, deletes, likes...)."""


class Unreadable(Skip):
    """A new post with nothing to read: no text and no alt text (a picture without a description, a bare
    quote). Not bad input, so not quarantined; counted as skipped when it is about us. `record` is the
    post record, for the prefilter to decide that."""

    def __init__(self, reason: str, record: dict[str, Any]) -> None:
        super().__init__(reason)
        self.record = record


def alt_texts(embed: Any) -> list[str]:
    """The non-empty alt texts of a post's images or video (also as a quote's media), in order."""
    if not isinstance(embed, dict):
        return []
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia":
        return alt_texts(embed.get("media"))
    if kind == "app.bsky.embed.images":
        images = embed.get("images")
        alts = (
            [image.get("alt") for image in images if isinstance(image, dict)]
            if isinstance(images, list)
            else []
        )
    elif kind == "app.bsky.embed.video":
        alts = [embed.get("alt")]
    else:
        return []
    return [alt.strip() for alt in alts if isinstance(alt, str) and alt.strip()]


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
        alts = alt_texts(record.get("embed"))
        if not alts:
            raise Unreadable("a post with no text and no alt text (a picture or a quote)", record)
        text = "\n".join(alts)
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
