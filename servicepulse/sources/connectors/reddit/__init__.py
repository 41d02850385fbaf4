"""Reddit: new posts and comments in chosen subreddits, through praw with an OAuth script app; replies as
the account."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from servicepulse.mentions.services import MentionData
from servicepulse.sources.connectors.reddit.client import OAUTH_URL, REDDIT_URL, RedditClient
from servicepulse.sources.connectors.reddit.parse import parse_thing
from servicepulse.sources.options import as_bool, as_list
from servicepulse.sources.registry import (
    Connector,
    ConnectorError,
    OptionSpec,
    OptionType,
    PayloadError,
    PullResult,
    Rejected,
    ReplyResult,
    SendKey,
    poll_seconds_option,
    register,
)

FIRST_PULL_LIMIT = 100


@register
class RedditConnector(Connector):
    kind: ClassVar[str] = "reddit"
    description: ClassVar[str] = (
        "Reddit: new posts and comments in chosen subreddits (praw, OAuth script app)"
    )
    can_reply: ClassVar[bool] = True
    reply_needs: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("client_id", "client_secret", "username", "password"),
    )
    poll_seconds: ClassVar[int] = 180
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec(
            "subreddits", "comma-separated subreddit names, e.g. northfielduni,UniOfNorthfield", required=True
        ),
        OptionSpec("client_id", "the script app's client id", required=True),
        OptionSpec("client_secret", "the script app's secret", required=True, secret=True),
        OptionSpec("username", "the account the app runs as", required=True),
        OptionSpec("password", "that account's password", required=True, secret=True),
        OptionSpec("comments", "also take new comments: true/false", default="true", type=OptionType.BOOLEAN),
        OptionSpec("oauth_url", "Reddit's OAuth API endpoint", default=OAUTH_URL, type=OptionType.URL),
        OptionSpec("reddit_url", "Reddit's site (token endpoint)", default=REDDIT_URL, type=OptionType.URL),
        poll_seconds_option("seconds between scheduled pulls"),
    )

    def client(self) -> RedditClient:
        return RedditClient(
            client_id=str(self.option("client_id")),
            client_secret=str(self.option("client_secret")),
            username=str(self.option("username")),
            password=str(self.option("password")),
            oauth_url=str(self.option("oauth_url")),
            reddit_url=str(self.option("reddit_url")),
        )

    def pull(self) -> PullResult:
        """Walk each listing newest-first down to the last thing seen; store it all with the new cursor."""
        from servicepulse.sources.services import source_store

        subreddits = [name.removeprefix("r/") for name in as_list(self.option("subreddits"))]
        if not subreddits:
            raise ConnectorError("no subreddits configured")
        kinds = ["posts", "comments"] if as_bool(self.option("comments"), default=True) else ["posts"]
        client = self.client()
        result = PullResult()
        for kind in kinds:
            seen = (self.source.cursor or {}).get(kind) or {}
            mentions: list[MentionData] = []
            rejected: list[Rejected] = []
            newest: dict[str, Any] | None = None
            try:
                for data in client.newest(kind, subreddits):
                    created = data.get("created_utc")
                    if data.get("name") == seen.get("name") or (
                        isinstance(created, int | float) and created < seen.get("created_utc", 0)
                    ):
                        break  # reached what the last pull stored
                    if newest is None and isinstance(created, int | float):
                        newest = {"name": data.get("name"), "created_utc": created}
                    try:
                        mentions.append(parse_thing(data))
                    except PayloadError as exc:
                        raw = json.dumps(data, sort_keys=True, default=str)
                        rejected.append(
                            Rejected(raw=raw, reason=str(exc), position=f"{kind} {data.get('name', '?')}")
                        )
                    if not seen and len(mentions) + len(rejected) >= FIRST_PULL_LIMIT:
                        break
            except ConnectorError as exc:
                # Keep what was fetched; the cursor stays, since older things were not reached.
                source_store(source=self.source, mentions=mentions, rejected=rejected, result=result)
                raise ConnectorError(str(exc), retry_after=exc.retry_after, result=result) from None
            cursor = {**(self.source.cursor or {}), kind: newest} if newest else None
            source_store(
                source=self.source, mentions=mentions, rejected=rejected, cursor=cursor, result=result
            )
        return result

    def reply(self, *, mention: Any, text: str, key: SendKey | None = None) -> ReplyResult:
        created = self.client().reply(fullname=mention.external_id, text=text)
        permalink = str(created.get("permalink") or "")
        return ReplyResult(
            external_id=str(created.get("name") or ""),
            url=f"https://www.reddit.com{permalink}" if permalink.startswith("/") else permalink,
        )
