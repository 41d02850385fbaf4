"""Discourse post objects -> MentionData.

The same post object arrives from `GET /posts.json` (`latest_posts`), `GET /t/{id}.json`
(`post_stream.posts`) and the `post_created` / `post_edited` webhooks (`{"post": {...}}`): `id`, `username`,
`name`, `user_id`, `created_at` (ISO 8601, UTC with Z), `raw` (Markdown, present in `/posts.json` and
webhooks), `cooked` (HTML), `post_number`, `post_type` (1 regular, 2 moderator action, 3 small action,
4 whisper), `topic_id`, `topic_slug`, `topic_title`, `category_id`, `reply_to_post_number`, `hidden`,
`deleted_at`, `user_deleted`.
"""

from __future__ import annotations

from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from servicepulse.mentions.services import MentionData
from servicepulse.sources.registry import PayloadError

REGULAR_POST = 1


class ParseError(PayloadError):
    pass


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(f"{field} is missing or not an integer")
    return value


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise ParseError("created_at is missing or not a string")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(f"created_at is not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise ParseError(f"created_at {value!r} has no UTC offset")
    return parsed


def wanted(post: dict[str, Any], *, category_ids: set[int]) -> bool:
    """Regular, visible, public posts of the chosen categories (all categories when none were chosen)."""
    if post.get("post_type", REGULAR_POST) != REGULAR_POST:
        return False
    if post.get("hidden") or post.get("deleted_at") or post.get("user_deleted"):
        return False
    if post.get("topic_archetype") == "private_message":
        return False
    return not category_ids or post.get("category_id") in category_ids


def parse_post(post: Any, *, base_url: str) -> MentionData:
    if not isinstance(post, dict):
        raise ParseError(f"post must be an object, got {type(post).__name__}")
    post_id = _int(post.get("id"), "id")
    topic_id = _int(post.get("topic_id"), "topic_id")
    raw = post.get("raw")
    if isinstance(raw, str) and raw.strip():
        text = raw
    elif isinstance(post.get("cooked"), str):
        text = html_to_text(post["cooked"])
    else:
        raise ParseError("post has neither raw nor cooked text")
    if not text.strip():
        raise ParseError("post text is empty")
    username = post.get("username") if isinstance(post.get("username"), str) else ""
    user_id = post.get("user_id")
    slug = post.get("topic_slug") if isinstance(post.get("topic_slug"), str) else "-"
    number = post.get("post_number") if isinstance(post.get("post_number"), int) else 1
    title = post.get("topic_title")
    if number == 1 and isinstance(title, str) and title.strip() and title.strip() not in text:
        text = f"{title.strip()}\n\n{text}"  # a topic's first post reads with its title
    return MentionData(
        external_id=str(post_id),
        text=text,
        created_at=parse_time(post.get("created_at")),
        author=username or "",
        author_id=str(user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else "",
        url=f"{base_url.rstrip('/')}/t/{slug}/{topic_id}/{number}",
        thread_id=f"topic:{topic_id}",
        raw=post,
    )
