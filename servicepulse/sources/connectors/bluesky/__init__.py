"""Bluesky: posts from the Jetstream firehose (WebSocket, `wantedCollections=app.bsky.feed.post`) kept by
a local keyword/hashtag/account prefilter; `cursor` (time_us) replays after a restart; replies via atproto."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, ClassVar

from servicepulse.sources.connectors.bluesky.client import (
    DEFAULT_JETSTREAM,
    DEFAULT_PDS,
    jetstream_messages,
    post_reply,
    subscribe_url,
)
from servicepulse.sources.connectors.bluesky.consumer import JetstreamConsumer
from servicepulse.sources.connectors.bluesky.prefilter import Prefilter
from servicepulse.sources.options import as_bool, as_float, as_list
from servicepulse.sources.registry import (
    CannotReply,
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
from servicepulse.sources.services import source_poll_interval

logger = logging.getLogger(__name__)


@register
class BlueskyConnector(Connector):
    kind: ClassVar[str] = "bluesky"
    description: ClassVar[str] = (
        "Bluesky posts from the Jetstream firehose, filtered by keywords, hashtags and your account"
    )
    can_stream: ClassVar[bool] = True
    can_reply: ClassVar[bool] = True
    reply_keyed: ClassVar[bool] = True
    reply_needs: ClassVar[tuple[tuple[str, ...], ...]] = (("handle", "app_password"),)
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec("keywords", "comma-separated words or phrases to keep"),
        OptionSpec("hashtags", "comma-separated hashtags to keep, without #"),
        OptionSpec("account_did", "your account's DID: keep posts that mention or reply to it"),
        OptionSpec(
            "jetstream_url",
            "Jetstream subscribe endpoint",
            default=DEFAULT_JETSTREAM,
            type=OptionType.WEBSOCKET_URL,
        ),
        OptionSpec(
            "streaming",
            "consume live with `servicepulse stream` (else pulled on a schedule)",
            default="true",
            type=OptionType.BOOLEAN,
        ),
        OptionSpec(
            "rewind_seconds",
            "replay this much before the cursor on reconnect",
            default="2",
            type=OptionType.NUMBER,
            minimum=0,
            maximum=3600,
        ),
        OptionSpec("handle", "the account's handle, for replies"),
        OptionSpec("app_password", "an app password of the account, for replies", secret=True),
        OptionSpec("pds_url", "the account's PDS", default=DEFAULT_PDS, type=OptionType.URL),
        poll_seconds_option("seconds between scheduled pulls when not streaming"),
    )

    def prefilter(self) -> Prefilter:
        prefilter = Prefilter(
            keywords=as_list(self.option("keywords")),
            hashtags=as_list(self.option("hashtags")),
            account_did=str(self.option("account_did") or ""),
        )
        if prefilter.empty:
            raise ConnectorError("nothing to listen for: set keywords, hashtags or account_did")
        return prefilter

    def streaming_enabled(self) -> bool:
        return as_bool(self.option("streaming"), default=True)

    def check_options(self) -> None:
        self.prefilter()

    def _url(self, consumer: JetstreamConsumer, *, first_cursor: int | None = None) -> str:
        cursor = consumer.time_us
        if cursor is not None:
            cursor -= int(as_float(self.option("rewind_seconds"), default=2.0) * 1_000_000)
        elif first_cursor is not None:
            cursor = first_cursor
        return subscribe_url(str(self.option("jetstream_url")), cursor=cursor)

    def pull(self) -> PullResult:
        """Catch up: replay from the cursor (first time: the last poll interval) until the stream reaches the
        moment the pull started or goes quiet."""
        consumer = JetstreamConsumer(source=self.source, prefilter=self.prefilter())
        started_us = int(time.time() * 1_000_000)
        # The source's `poll_seconds` option when set (the class default is only the fallback).
        interval = source_poll_interval(source=self.source)
        first = started_us - int(interval.total_seconds()) * 1_000_000
        stop = threading.Event()
        try:
            for message in jetstream_messages(
                url=self._url(consumer, first_cursor=first), stop=stop, idle_timeout=3.0
            ):
                time_us = consumer.process(message)
                if time_us is not None and time_us >= started_us:
                    break
        except ConnectorError as exc:
            consumer.flush()
            raise ConnectorError(str(exc), retry_after=exc.retry_after, result=consumer.result) from None
        consumer.flush()
        return consumer.result

    def stream(self, *, stop: Any = None, max_reconnects: int | None = None) -> None:
        """Consume Jetstream until `stop` is set, reconnecting from the stored cursor with back-off."""
        from servicepulse.sources.services import source_record_failure, source_record_success

        stop = stop or threading.Event()
        consumer = JetstreamConsumer(source=self.source, prefilter=self.prefilter())
        delay = 1.0
        attempts = 0
        first = int(time.time() * 1_000_000)
        while not stop.is_set():
            try:
                for message in jetstream_messages(url=self._url(consumer, first_cursor=first), stop=stop):
                    consumer.process(message)
                    delay = 1.0
                consumer.flush()
                source_record_success(source=self.source)
            except ConnectorError as exc:
                consumer.flush()
                logger.warning("jetstream %s: %s", self.source.name, exc)
                source_record_failure(source=self.source, error=str(exc), retry_after=exc.retry_after)
                delay = max(delay, exc.retry_after or 0)
            attempts += 1
            if max_reconnects is not None and attempts > max_reconnects:
                return
            stop.wait(delay)
            delay = min(delay * 2, 300.0)

    def reply(self, *, mention: Any, text: str, key: SendKey | None = None) -> ReplyResult:
        """Post the reply; with `key`, under a record key of its own (see `client.create_post`)."""
        handle, password = self.option("handle"), self.option("app_password")
        if not handle or not password:
            raise CannotReply("this Bluesky source has no handle and app password, so it cannot post replies")
        raw = mention.raw or {}
        commit = raw.get("commit") or {}
        cid = commit.get("cid")
        if not cid:
            raise ConnectorError("the post's cid is unknown, so a reply cannot reference it")
        parent = {"uri": mention.external_id, "cid": str(cid)}
        root = ((commit.get("record") or {}).get("reply") or {}).get("root") or parent
        created = post_reply(
            pds_url=str(self.option("pds_url")),
            handle=str(handle),
            app_password=str(password),
            text=text,
            parent=parent,
            root={"uri": str(root["uri"]), "cid": str(root["cid"])},
            key=key,
        )
        uri = created["uri"]
        did, _, rkey = uri.removeprefix("at://").partition("/app.bsky.feed.post/")
        return ReplyResult(external_id=uri, url=f"https://bsky.app/profile/{did}/post/{rkey}" if rkey else "")
