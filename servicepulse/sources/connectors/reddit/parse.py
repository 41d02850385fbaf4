"""Reddit things -> MentionData.

Listings (https://www.reddit.com/dev/api/#GET_new, #GET_comments) hold `t3` links (posts: `name`, `title`,
`selftext`, `author`, `created_utc`, `permalink`, `subreddit`) and `t1` comments (`body`, `link_id`,
`parent_id`). A thing's fullname (`t3_abc`, `t1_def`) is its id here. praw turns them into objects;
`thing_data` takes their JSON fields back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from servicepulse.mentions.services import MentionData
from servicepulse.sources.registry import PayloadError

SITE = "https://www.reddit.com"


def thing_data(thing: Any) -> dict[str, Any]:
    """The JSON fields of a praw Submission/Comment (authors and subreddits back to their names)."""
    if isinstance(thing, dict):
        return thing
    data: dict[str, Any] = {}
    for key, value in vars(thing).items():
        if key.startswith("_") or key in {"comment_sort", "comment_limit"}:
            continue
        if key in {"author", "subreddit"} and value is not None and not isinstance(value, str):
            value = str(value)
        if isinstance(value, str | int | float | bool | list | dict) or value is None:
            data[key] = value
    return data


def parse_thing(data: Any) -> MentionData:
    if not isinstance(data, dict):
        raise PayloadError(f"a thing must be a JSON object, got {type(data).__name__}")
    name = data.get("name")
    if not isinstance(name, str) or not name.startswith(("t1_", "t3_")):
        raise PayloadError(f"thing has no t1_/t3_ fullname (name={name!r})")
    created = data.get("created_utc")
    if not isinstance(created, int | float) or isinstance(created, bool):
        raise PayloadError(f"{name}: created_utc must be a number of seconds, got {created!r}")
    try:
        created_at = datetime.fromtimestamp(float(created), tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"{name}: created_utc {created!r} is not a time") from None
    if name.startswith("t3_"):
        title = str(data.get("title") or "").strip()
        body = str(data.get("selftext") or "").strip()
        text = f"{title}\n\n{body}".strip() if body else title
        in_reply_to, thread = "", name
    else:
        body_value = data.get("body")
        if not isinstance(body_value, str):
            raise PayloadError(f"{name}: comment body must be a string")
        text = body_value.strip()
        in_reply_to, thread = str(data.get("parent_id") or ""), str(data.get("link_id") or "")
    if not text or text in {"[deleted]", "[removed]"}:
        raise PayloadError(f"{name}: no text (deleted or removed)")
    author = data.get("author")
    permalink = str(data.get("permalink") or "")
    try:
        return MentionData(
            external_id=name,
            text=text,
            created_at=created_at,
            author=str(author) if author and author != "[deleted]" else "",
            author_id=str(data.get("author_fullname") or ""),
            url=f"{SITE}{permalink}" if permalink.startswith("/") else permalink,
            in_reply_to=in_reply_to,
            thread_id=thread,
            raw=data,
        )
    except ValueError as exc:
        raise PayloadError(f"{name}: {exc}") from None
