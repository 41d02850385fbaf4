"""X (formerly Twitter): recent search for configured queries, and replies.

Cost model: since February 2026 the X API is pay per use — every post read and every post written is
billed. So this connector reads little by design: narrow queries (name the service and the organisation,
add `-is:retweet`), a small page (`max_results`), one page per query per pull (`max_pages`), `since_id` so
nothing is read twice, and an hour between scheduled pulls (`poll_seconds`, default 3600).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from django.utils import timezone

from servicepulse.mentions.models import Mention
from servicepulse.sources.connectors.x.client import API_HOST, XClient
from servicepulse.sources.connectors.x.parse import ParseError, parse_tweet, users_by_id
from servicepulse.sources.options import as_float
from servicepulse.sources.registry import (
    Connector,
    ConnectorError,
    OptionSpec,
    OptionType,
    PullResult,
    ReplyResult,
    SendKey,
    poll_seconds_option,
    register,
)
from servicepulse.sources.services import source_set_cursor
from servicepulse.sources.webhooks import Item, raw_of, store_items


def query_list(value: Any) -> list[str]:
    """Queries as a list, or one per line (queries themselves contain spaces, commas and OR)."""
    if value in (None, "", []):
        return []
    parts = value if isinstance(value, list) else str(value).splitlines()
    return [str(part).strip() for part in parts if str(part).strip()]


@register
class XConnector(Connector):
    kind: ClassVar[str] = "x"
    description: ClassVar[str] = (
        "X recent search (GET /2/tweets/search/recent) for configured queries, and replies (POST /2/tweets). "
        "Pay per use since February 2026: every read and post is billed, so keep queries narrow "
        "(e.g. '(moodle OR vle) northgate -is:retweet'), pages small and polls sparse (poll_seconds, "
        "default an hour)."
    )
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec(
            "queries",
            "Search queries, one per line (X search operators allowed)",
            required=True,
            multiline=True,
        ),
        OptionSpec("bearer_token", "App-only bearer token, for search", secret=True),
        OptionSpec(
            "user_access_token", "OAuth 2.0 user-context token with tweet.write, for replies", secret=True
        ),
        OptionSpec(
            "consumer_key", "OAuth 1.0a API key, for replies (instead of user_access_token)", secret=True
        ),
        OptionSpec("consumer_secret", "OAuth 1.0a API key secret", secret=True),
        OptionSpec("access_token", "OAuth 1.0a access token of the replying account", secret=True),
        OptionSpec("access_token_secret", "OAuth 1.0a access token secret", secret=True),
        OptionSpec("api_base_url", "X API address", default=API_HOST, type=OptionType.URL),
        OptionSpec(
            "max_results",
            "Posts per page (10-100); each one read is billed",
            default=25,
            type=OptionType.INTEGER,
            minimum=10,
            maximum=100,
        ),
        OptionSpec(
            "max_pages",
            "Pages per query per pull",
            default=1,
            type=OptionType.INTEGER,
            minimum=1,
            maximum=100,
        ),
        poll_seconds_option("Seconds between scheduled pulls (default 3600: every read is billed)"),
        OptionSpec(
            "backfill_hours",
            "How far back the first pull reads (recent search covers 7 days)",
            default=24,
            type=OptionType.NUMBER,
            minimum=0,
            maximum=7 * 24,
        ),
    )
    can_pull: ClassVar[bool] = True
    poll_seconds: ClassVar[int] = 3600  # every read is billed: poll sparingly
    can_reply: ClassVar[bool] = True
    reply_keyed: ClassVar[bool] = True
    reply_needs: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("user_access_token",),
        ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
    )

    def _opt(self, name: str) -> Any:
        spec = next(spec for spec in self.options if spec.name == name)
        return self.source.options.get(name, spec.default)

    def _num(self, name: str) -> float:
        value = self._opt(name)
        try:
            return as_float(value, default=0.0)
        except (TypeError, ValueError):
            raise ConnectorError(f"option {name} must be a number, got {value!r}") from None

    def _search_client(self) -> XClient:
        token = self.source.secrets.get("bearer_token", "")
        if not token:
            raise ConnectorError("no bearer_token configured for this X source")
        return XClient(bearer_token=token, base_url=str(self._opt("api_base_url")))

    def pull(self) -> PullResult:
        """Each query's posts since its `since_id`, newest first, at most `max_pages` pages a pull.

        When the pages run out before `since_id` is reached (more new posts than a pull reads: an outage
        evening), `since_id` stays and the cursor notes the oldest post read (`backlog`); the next pulls
        read on below it (`until_id`) before taking the newest again, so the posts between are read later
        rather than never (the same number of posts is billed either way)."""
        queries = query_list(self._opt("queries"))
        if not queries:
            raise ConnectorError("no queries configured for this X source")
        now = timezone.now()
        client = self._search_client()
        since_ids: dict[str, str] = dict(self.source.cursor.get("since_id") or {})
        backlogs: dict[str, Any] = dict(self.source.cursor.get("backlog") or {})
        start = (now - timedelta(hours=self._num("backfill_hours"))).strftime("%Y-%m-%dT%H:%M:%SZ")
        max_results = min(max(int(self._num("max_results")), 10), 100)
        result = PullResult()
        for query in queries:
            backlog = backlogs.get(query) if isinstance(backlogs.get(query), dict) else None
            until_id = str(backlog["until_id"]) if backlog and backlog.get("until_id") else None
            newest: str | None = str(backlog["newest"]) if backlog and backlog.get("newest") else None
            oldest: str | None = None
            next_token: str | None = None
            for page in range(int(self._num("max_pages"))):
                payload = client.search_recent(
                    query=query,
                    since_id=since_ids.get(query),
                    start_time=start,
                    max_results=max_results,
                    next_token=next_token,
                    until_id=until_id,
                )
                meta = payload.get("meta")
                if not isinstance(meta, dict):
                    meta = {}
                data = payload.get("data", [])
                if not isinstance(data, list):
                    raise ConnectorError(f"X recent search {query!r}: data is not a list")
                if page == 0 and until_id is None and isinstance(meta.get("newest_id"), str):
                    newest = meta["newest_id"]
                if isinstance(meta.get("oldest_id"), str):
                    oldest = meta["oldest_id"]
                self._store(data, users_by_id(payload), result)
                next_token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
                if not next_token:
                    break
            if next_token and oldest and since_ids.get(query):
                backlogs[query] = {"until_id": oldest, "newest": newest}  # read on below it next time
            else:
                backlogs.pop(query, None)
                if newest:
                    since_ids[query] = newest
            cursor = {**self.source.cursor, "since_id": dict(since_ids), "backlog": dict(backlogs)}
            if not backlogs:
                del cursor["backlog"]
            if cursor != {"since_id": {}, **self.source.cursor}:
                source_set_cursor(source=self.source, cursor=cursor)
        return result

    def _store(self, tweets: list[Any], users: dict[str, dict[str, Any]], result: PullResult) -> None:
        items: list[Item] = []
        for tweet in tweets:
            position = f"tweet {tweet.get('id') if isinstance(tweet, dict) else '?'}"
            try:
                mention = parse_tweet(tweet, users=users)
            except (ParseError, ValueError) as exc:
                items.append(Item(position, raw_of(tweet), error=str(exc)))
                continue
            if mention is not None:
                items.append(Item(position, raw_of(tweet), mention=mention))
        stored = store_items(source=self.source, items=items)
        result.created += stored.created
        result.duplicates += stored.duplicates
        result.quarantined += stored.quarantined
        result.mention_ids.extend(stored.mention_ids)

    def reply(self, *, mention: Mention, text: str, key: SendKey | None = None) -> ReplyResult:
        """Post a reply (billed). Needs user context: an OAuth 2.0 user token or OAuth 1.0a keys. A retry
        (`key.retry`) first looks for the reply on the account, as X has no idempotency key."""
        if not text.strip():
            raise ConnectorError("a reply needs some text")
        secrets = self.source.secrets
        base_url = str(self._opt("api_base_url"))
        if secrets.get("user_access_token"):
            client, user_auth = XClient(bearer_token=secrets["user_access_token"], base_url=base_url), False
        elif all(
            secrets.get(k) for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        ):
            client = XClient(
                consumer_key=secrets["consumer_key"],
                consumer_secret=secrets["consumer_secret"],
                access_token=secrets["access_token"],
                access_token_secret=secrets["access_token_secret"],
                base_url=base_url,
            )
            user_auth = True
        else:
            raise ConnectorError(
                "replying on X needs user_access_token, or consumer_key/consumer_secret/access_token/"
                "access_token_secret, on the source"
            )
        new_id = client.reply(text=text, in_reply_to=mention.external_id, user_auth=user_auth, key=key)
        return ReplyResult(external_id=new_id, url=f"https://x.com/i/web/status/{new_id}")
