"""Facebook Page payloads -> MentionData.

Two shapes reach us: webhook `feed` change values (Graph API Webhooks reference, Page object, field `feed`:
`item` post/status/comment/reaction/..., `verb` add/edited/remove, `created_time` as a Unix time) and Graph
API nodes from backfill (`/{page-id}/feed` posts and `/{post-id}/comments`, `created_time` as ISO 8601 with
a +0000 offset). Items that are not something a person wrote (reactions, likes, shares, removals) return
None; a post or comment with nothing to read (a sticker, a photo without words) raises NoText; items that
should be words but are broken raise ParseError with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicepulse.mentions.services import MentionData
from servicepulse.sources.registry import PayloadError

TEXT_ITEMS = {"post", "status", "comment", "photo", "video"}
TEXT_VERBS = {"add", "edited"}


class ParseError(PayloadError):
    pass


class NoText(Exception):
    """A valid post or comment with nothing to read: a sticker, a photo or a shared link without words
    (Graph gives `message` "" or none, and the picture as `attachment`; a webhook `feed` change leaves
    `message` out and sends the picture as `photo` or `video`). Not bad input: skipped and counted, never
    quarantined, so the pulls that re-read it inside the comment window, and the webhook that delivers
    every sticker, add nothing for an admin to review."""


def _str_id(value: Any, field: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ParseError(f"{field} is missing or not an id string")
    return value.strip()


def parse_time(value: Any, *, field: str = "created_time") -> datetime:
    """A Unix time (webhooks) or an ISO 8601 time with an offset (Graph API nodes)."""
    if isinstance(value, bool):
        raise ParseError(f"{field} is not a time")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ParseError(f"{field} {value!r} is out of range") from None
    if isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ParseError(f"{field} is not an ISO 8601 time: {value!r}") from None
        if parsed.tzinfo is None:
            raise ParseError(f"{field} {value!r} has no UTC offset")
        return parsed
    raise ParseError(f"{field} is missing or not a time")


def _author(value: Any) -> tuple[str, str]:
    if not isinstance(value, dict):
        return "", ""
    name = value.get("name") if isinstance(value.get("name"), str) else ""
    ident = value.get("id")
    return name or "", str(ident) if isinstance(ident, str | int) and not isinstance(ident, bool) else ""


def _has_no_text(message: Any) -> bool:
    """True for a `message` Graph leaves out or sends blank; a message of another type is broken, not empty,
    and is left for `_message` to refuse."""
    return message is None or (isinstance(message, str) and not message.strip())


def _message(value: dict[str, Any]) -> str:
    message = value.get("message")
    if message is None:
        raise ParseError("message is missing (nothing was written)")
    if not isinstance(message, str):
        raise ParseError(f"message must be a string, got {type(message).__name__}")
    if not message.strip():
        raise ParseError("message is empty")
    return message


def _attachment_description(value: Any) -> str:
    """What a comment's attachment says in words: its `description` (Graph API StoryAttachment:
    https://developers.facebook.com/docs/graph-api/reference/story-attachment/), when it has one."""
    description = value.get("description") if isinstance(value, dict) else None
    return description.strip() if isinstance(description, str) else ""


def _attachment_type(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else None
    return kind if isinstance(kind, str) else ""


def post_url(post_id: str, comment_id: str = "") -> str:
    base = f"https://www.facebook.com/{post_id}"
    return f"{base}?comment_id={comment_id.split('_')[-1]}" if comment_id else base


def parse_feed_change(value: Any, *, page_id: str, include_page: bool = False) -> MentionData | None:
    """One `feed` change value from a Page webhook; None for changes that carry no words of a person.

    A post or comment without words (a photo, video or sticker only: `message` left out, the picture as
    `photo` or `video`) raises NoText once its ids and time are known good, as the backfill does; a change
    whose ids, time or message are missing or of the wrong type raises ParseError."""
    if not isinstance(value, dict):
        raise ParseError(f"change value must be an object, got {type(value).__name__}")
    item, verb = value.get("item"), value.get("verb")
    if not isinstance(item, str) or not isinstance(verb, str):
        raise ParseError("change value has no item/verb")
    if item not in TEXT_ITEMS or verb not in TEXT_VERBS:
        return None
    author, author_id = _author(value.get("from"))
    if author_id and author_id == page_id and not include_page:
        return None  # the Page's own posts and replies are our voice, not a mention
    post_id = _str_id(value.get("post_id"), "post_id")
    created_at = parse_time(value.get("created_time"))
    comment_id = parent_id = ""
    if item == "comment":
        comment_id = _str_id(value.get("comment_id"), "comment_id")
        parent = value.get("parent_id")
        parent_id = _str_id(parent, "parent_id") if parent else post_id
    if _has_no_text(value.get("message")):
        kind = next((k for k in ("photo", "photos", "video") if value.get(k)), "nothing")
        raise NoText(f"a {item} with no text ({kind})")
    text = _message(value)
    if item == "comment":
        return MentionData(
            external_id=comment_id,
            text=text,
            created_at=created_at,
            author=author,
            author_id=author_id,
            url=post_url(post_id, comment_id),
            in_reply_to=parent_id,
            thread_id=post_id,
            raw=value,
        )
    return MentionData(
        external_id=post_id,
        text=text,
        created_at=created_at,
        author=author,
        author_id=author_id,
        url=link if isinstance(link := value.get("link"), str) else post_url(post_id),
        thread_id=post_id,
        raw=value,
    )


def parse_graph_post(node: Any, *, page_id: str, include_page: bool = False) -> MentionData | None:
    """A post node from `/{page-id}/feed`; None for the Page's own posts and posts with no message."""
    if not isinstance(node, dict):
        raise ParseError(f"post must be an object, got {type(node).__name__}")
    post_id = _str_id(node.get("id"), "id")
    author, author_id = _author(node.get("from"))
    if author_id and author_id == page_id and not include_page:
        return None
    if _has_no_text(node.get("message")):
        raise NoText("a post with no text (a shared link or photo without words)")
    permalink = node.get("permalink_url")
    return MentionData(
        external_id=post_id,
        text=_message(node),
        created_at=parse_time(node.get("created_time")),
        author=author,
        author_id=author_id,
        url=permalink if isinstance(permalink, str) else post_url(post_id),
        thread_id=post_id,
        raw=node,
    )


def parse_graph_comment(
    node: Any, *, post_id: str, page_id: str, include_page: bool = False
) -> MentionData | None:
    """A comment node from `/{post-id}/comments` (with `parent` when it answers another comment)."""
    if not isinstance(node, dict):
        raise ParseError(f"comment must be an object, got {type(node).__name__}")
    comment_id = _str_id(node.get("id"), "id")
    author, author_id = _author(node.get("from"))
    if author_id and author_id == page_id and not include_page:
        return None
    parent = node.get("parent")
    parent_id = _str_id(parent.get("id"), "parent.id") if isinstance(parent, dict) else post_id
    permalink = node.get("permalink_url")
    if _has_no_text(node.get("message")):
        text = _attachment_description(node.get("attachment"))
        if not text:
            kind = _attachment_type(node.get("attachment")) or "nothing"
            raise NoText(f"a comment with no text ({kind})")
    else:
        text = _message(node)
    return MentionData(
        external_id=comment_id,
        text=text,
        created_at=parse_time(node.get("created_time")),
        author=author,
        author_id=author_id,
        url=permalink if isinstance(permalink, str) else post_url(post_id, comment_id),
        in_reply_to=parent_id,
        thread_id=post_id,
        raw=node,
    )
