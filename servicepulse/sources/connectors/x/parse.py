"""X API v2 tweet objects -> MentionData.

Shape (X API v2 reference, `GET /2/tweets/search/recent`): `{"data": [tweet, ...], "includes": {"users":
[user, ...]}, "meta": {"newest_id", "oldest_id", "result_count", "next_token"}, "errors": [...]}` with
`tweet.fields=created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,lang` and
`expansions=author_id` (`user.fields=username,name`). Retweets (`referenced_tweets[].type == "retweeted"`)
repeat someone else's words and return None.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from servicepulse.mentions.services import MentionData
from servicepulse.sources.registry import PayloadError


class ParseError(PayloadError):
    pass


def users_by_id(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    includes = payload.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    if not isinstance(users, list):
        return {}
    return {str(u["id"]): u for u in users if isinstance(u, dict) and "id" in u}


def parse_tweet(tweet: Any, *, users: dict[str, dict[str, Any]]) -> MentionData | None:
    if not isinstance(tweet, dict):
        raise ParseError(f"tweet must be an object, got {type(tweet).__name__}")
    tweet_id = tweet.get("id")
    if not isinstance(tweet_id, str) or not (tweet_id.isascii() and tweet_id.isdigit()):
        raise ParseError("id is missing or not a numeric string")
    refs = tweet.get("referenced_tweets")
    if refs is not None and not isinstance(refs, list):
        raise ParseError("referenced_tweets must be a list")
    kinds = {str(ref.get("type")): str(ref.get("id", "")) for ref in refs or [] if isinstance(ref, dict)}
    if "retweeted" in kinds:
        return None
    text = tweet.get("text")
    if not isinstance(text, str):
        raise ParseError(f"text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("text is empty")
    created = tweet.get("created_at")
    if not isinstance(created, str):
        raise ParseError("created_at is missing (ask for tweet.fields=created_at)")
    try:
        created_at = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(f"created_at is not an ISO 8601 time: {created!r}") from None
    if created_at.tzinfo is None:
        raise ParseError(f"created_at {created!r} has no UTC offset")
    author_id = str(tweet.get("author_id") or "")
    user = users.get(author_id, {})
    username = user.get("username") if isinstance(user.get("username"), str) else ""
    lang = tweet.get("lang")
    lang = lang if isinstance(lang, str) else ""
    return MentionData(
        external_id=tweet_id,
        text=text,
        created_at=created_at,
        author=f"@{username}" if username else author_id,
        author_id=author_id,
        url=f"https://x.com/{username or 'i/web'}/status/{tweet_id}",
        in_reply_to=kinds.get("replied_to", ""),
        thread_id=str(tweet.get("conversation_id") or tweet_id),
        language="" if lang in ("", "und", "zxx", "qme", "qht") else lang,
        raw={**tweet, "author": user} if user else tweet,
    )
