"""Mastodon: hashtags, keywords (where the server allows full-text search) and mentions of the organisation's
account; pulled over REST or consumed live from the streaming API (WebSocket) with reconnect and a polling
fallback; replies are posted as the account (a status with `in_reply_to_id`)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from servicepulse.mentions.services import MentionData, mentions_revise
from servicepulse.sources.connectors.mastodon.client import MastodonClient
from servicepulse.sources.connectors.mastodon.parse import (
    Skip,
    parse_notification,
    parse_status,
    parse_stream_message,
    plain,
)
from servicepulse.sources.options import as_bool, as_list
from servicepulse.sources.registry import (
    CannotReply,
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

logger = logging.getLogger(__name__)
MAX_PAGES = 10  # per feed and pull; the rest comes next time (the cursor has moved)


def _id_key(value: str) -> tuple[int, int | str]:
    return (0, int(value)) if value.isdecimal() else (1, value)


def newest(ids: list[str]) -> str:
    return max(ids, key=_id_key)


def _tag_page(client: MastodonClient, tag: str, min_id: str | None) -> list[Any]:
    return client.tag_statuses(tag, min_id=min_id)


def _search_page(client: MastodonClient, word: str, min_id: str | None) -> list[Any]:
    """Every match newer than `min_id` (first run: the newest page). Unlike timelines, search answers the
    newest matches first even with `min_id` (ordered by id descending, then cut to `limit`), so the matches
    beyond one page are reached by walking down with `max_id` until a page comes back empty."""
    page = client.search_statuses(word, min_id=min_id)
    if min_id is None:
        return page
    found = list(page)
    for _ in range(MAX_PAGES - 1):
        ids = [str(item["id"]) for item in page if isinstance(item, dict) and item.get("id")]
        if not ids:
            break
        page = client.search_statuses(word, min_id=min_id, max_id=min(ids, key=_id_key))
        found.extend(page)
    return found


@register
class MastodonConnector(Connector):
    kind: ClassVar[str] = "mastodon"
    description: ClassVar[str] = (
        "Mastodon: hashtags, keywords and mentions of your account, polled or streamed; replies as it"
    )
    can_stream: ClassVar[bool] = True
    can_reply: ClassVar[bool] = True
    reply_keyed: ClassVar[bool] = True
    reply_needs: ClassVar[tuple[tuple[str, ...], ...]] = (("access_token",),)
    poll_seconds: ClassVar[int] = 120
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec(
            "api_base_url", "the server, e.g. https://mastodon.ac.uk", required=True, type=OptionType.URL
        ),
        OptionSpec("access_token", "the account's access token (read, write:statuses)", secret=True),
        OptionSpec("hashtags", "comma-separated hashtags to follow, without #"),
        OptionSpec("keywords", "comma-separated search terms (needs a server with full-text search)"),
        OptionSpec(
            "mentions",
            "also take mentions of the account (needs the token): true/false",
            default="true",
            type=OptionType.BOOLEAN,
        ),
        OptionSpec(
            "streaming",
            "consume the streaming API live (servicepulse stream): true/false",
            default="false",
            type=OptionType.BOOLEAN,
        ),
        OptionSpec(
            "streaming_url",
            "streaming server when it differs from the API, e.g. wss://streaming.host",
            type=OptionType.WEBSOCKET_URL,
        ),
        OptionSpec(
            "reply_visibility",
            "visibility of replies: public, unlisted, private",
            default="unlisted",
            choices=("public", "unlisted", "private"),
        ),
        poll_seconds_option("seconds between scheduled pulls"),
    )

    # --- configuration ----------------------------------------------------------------------------------

    def client(self) -> MastodonClient:
        return MastodonClient(
            api_base_url=str(self.option("api_base_url")), access_token=str(self.option("access_token") or "")
        )

    def hashtags(self) -> list[str]:
        return [tag.lstrip("#") for tag in as_list(self.option("hashtags"))]

    def wants_mentions(self) -> bool:
        return bool(self.option("access_token")) and as_bool(self.option("mentions"), default=True)

    def streaming_enabled(self) -> bool:
        return as_bool(self.option("streaming"), default=False)

    def check_options(self) -> None:
        if not (self.hashtags() or as_list(self.option("keywords")) or self.wants_mentions()):
            raise ConnectorError("nothing to follow: set hashtags, keywords, or an access_token for mentions")

    def feeds(self, client: MastodonClient) -> list[tuple[str, Callable[[str | None], list[Any]], Any]]:
        """(cursor key, fetch(min_id) -> page, parser) for every feed this source follows."""
        self.check_options()
        feeds: list[tuple[str, Callable[[str | None], list[Any]], Any]] = []
        for tag in self.hashtags():
            feeds.append((f"tag:{tag.lower()}", partial(_tag_page, client, tag), parse_status))
        for word in as_list(self.option("keywords")):
            feeds.append((f"search:{word}", partial(_search_page, client, word), parse_status))
        if self.wants_mentions():
            feeds.append(("mentions", lambda m: client.mention_notifications(min_id=m), parse_notification))
        return feeds

    # --- pulling ----------------------------------------------------------------------------------------

    def pull(self) -> PullResult:
        """For each feed, page forward from the cursor (min_id) and store each page with its cursor."""
        client = self.client()
        result = PullResult()
        errors: list[str] = []
        retry_after: float | None = None
        for key, fetch_page, parser in self.feeds(client):
            try:
                self._pull_feed(key, fetch_page, parser, result)
            except ConnectorError as exc:
                # A refused search (no full-text search on this server) must not stop the hashtags.
                errors.append(str(exc))
                retry_after = max(filter(None, [retry_after, exc.retry_after]), default=None)
        if errors:
            raise ConnectorError("; ".join(errors), retry_after=retry_after, result=result)
        return result

    def _pull_feed(
        self, key: str, fetch_page: Callable[[str | None], list[Any]], parser: Any, result: PullResult
    ) -> None:
        from servicepulse.sources.services import source_store

        for _ in range(MAX_PAGES):
            min_id = (self.source.cursor or {}).get(key)
            page = fetch_page(min_id)
            if not page:
                return
            mentions, rejected, ids = self._parse_page(page, parser, key)
            cursor = {**(self.source.cursor or {}), key: newest(ids)} if ids else None
            source_store(
                source=self.source, mentions=mentions, rejected=rejected, cursor=cursor, result=result
            )
            self._apply_edits(mentions)
            if min_id is None:
                return  # first run: start from now, no backfill beyond one page

    @staticmethod
    def _parse_page(
        page: list[Any], parser: Any, key: str
    ) -> tuple[list[MentionData], list[Rejected], list[str]]:
        mentions: list[MentionData] = []
        rejected: list[Rejected] = []
        ids: list[str] = []
        for item in page:
            item_id = str(item.get("id", "")) if isinstance(item, dict) else ""
            if item_id:
                ids.append(item_id)
            try:
                mentions.append(parser(item))
            except Skip:
                continue
            except PayloadError as exc:
                raw = json.dumps(plain(item), sort_keys=True, default=str)
                rejected.append(Rejected(raw=raw, reason=str(exc), position=f"{key} id {item_id or '?'}"))
        return mentions, rejected, ids

    def _apply_edits(self, mentions: list[MentionData]) -> None:
        """Stored posts read again edited (`edited_at` set: https://docs.joinmastodon.org/entities/Status/)
        take their new text; posts not stored yet are left to the ingest, which has stored them as edited."""
        edited = [m for m in mentions if isinstance(m.raw, dict) and m.raw.get("edited_at")]
        if edited:
            mentions_revise(source=self.source, items=edited)

    # --- streaming --------------------------------------------------------------------------------------

    def subscriptions(self) -> list[dict[str, str]]:
        subs = [{"stream": "hashtag", "tag": tag} for tag in self.hashtags()]
        if self.wants_mentions():
            subs.append({"stream": "user:notification"})
        return subs

    def stream(self, *, stop: Any = None, max_reconnects: int | None = None) -> None:
        """Consume the streaming API until `stop` is set. After every (re)connect the REST feeds are pulled
        from the cursor first, so posts made while disconnected are not lost; while the stream cannot be
        reached, that pull runs on a back-off schedule instead (the polling fallback)."""
        from servicepulse.sources.services import source_record_failure, source_record_success

        stop = stop or threading.Event()
        client = self.client()
        url = client.streaming_url(str(self.option("streaming_url") or ""))
        delay = 1.0
        attempts = 0
        while not stop.is_set():
            try:
                self.pull()
                source_record_success(source=self.source)
            except ConnectorError as exc:
                source_record_failure(source=self.source, error=str(exc), retry_after=exc.retry_after)
            try:
                noted = time.monotonic()
                for message in client.stream_messages(url=url, subscriptions=self.subscriptions(), stop=stop):
                    self.handle_message(message)
                    delay = 1.0
                    if time.monotonic() - noted >= 60:  # healthy while messages flow, not only at reconnects
                        source_record_success(source=self.source)
                        noted = time.monotonic()
            except ConnectorError as exc:
                logger.warning("mastodon stream %s: %s", self.source.name, exc)
                source_record_failure(source=self.source, error=str(exc), retry_after=exc.retry_after)
                delay = max(delay, exc.retry_after or 0)
            attempts += 1
            if max_reconnects is not None and attempts > max_reconnects:
                return
            stop.wait(delay)
            delay = min(delay * 2, float(self.poll_seconds))

    def handle_message(self, message: str | bytes) -> PullResult:
        """Store what one streaming message carries; a message that does not parse is quarantined."""
        from servicepulse.sources.services import source_store

        result = PullResult()
        try:
            event = parse_stream_message(message)
        except PayloadError as exc:
            return source_store(
                source=self.source,
                mentions=[],
                rejected=[Rejected(raw=message, reason=str(exc), position="stream")],
            )
        if event.event == "status.update":
            # An edit: the status as it now reads (https://docs.joinmastodon.org/methods/streaming/#events).
            mentions, rejected, _ = self._parse_page([event.payload], parse_status, "status.update")
            if rejected:
                source_store(source=self.source, mentions=[], rejected=rejected, result=result)
            self._apply_edits(mentions)
            return result
        if event.event not in {"update", "notification"}:
            return result  # deletes and filter changes do not make mentions
        if event.event == "update":
            key = (
                f"tag:{event.stream[1].lower()}"
                if len(event.stream) > 1 and event.stream[0] == "hashtag"
                else ""
            )
            parser: Callable[[Any], MentionData] = parse_status
        else:
            key, parser = "mentions", parse_notification
        mentions, rejected, ids = self._parse_page([event.payload], parser, key or "stream")
        cursor = None
        if key and ids:
            current = (self.source.cursor or {}).get(key)
            latest = newest([*ids, *([current] if current else [])])
            cursor = {**(self.source.cursor or {}), key: latest}
        return source_store(
            source=self.source, mentions=mentions, rejected=rejected, cursor=cursor, result=result
        )

    # --- replying ---------------------------------------------------------------------------------------

    def reply(self, *, mention: Any, text: str, key: SendKey | None = None) -> ReplyResult:
        """Post the reply (a status with `in_reply_to_id`); `key` becomes its Idempotency-Key."""
        if not self.option("access_token"):
            raise CannotReply("this Mastodon source has no access token, so it cannot post replies")
        acct = str((mention.raw or {}).get("account", {}).get("acct") or mention.author or "")
        body = text if not acct or f"@{acct}" in text else f"@{acct} {text}"
        status = self.client().post_reply(
            text=body,
            in_reply_to_id=mention.external_id,
            visibility=str(self.option("reply_visibility")),
            idempotency_key=key.name if key else "",
        )
        return ReplyResult(external_id=str(status.get("id", "")), url=str(status.get("url") or ""))
