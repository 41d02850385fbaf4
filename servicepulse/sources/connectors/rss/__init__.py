"""RSS 0.9x/1.0/2.0 and Atom feeds: each entry is a mention; conditional GET (ETag, Last-Modified)."""

from __future__ import annotations

from typing import ClassVar

from servicepulse.sources.connectors.rss.client import fetch_feed
from servicepulse.sources.connectors.rss.parse import parse_feed
from servicepulse.sources.registry import (
    Connector,
    ConnectorError,
    OptionSpec,
    OptionType,
    PayloadError,
    PullResult,
    Rejected,
    register,
)


@register
class RssConnector(Connector):
    kind: ClassVar[str] = "rss"
    description: ClassVar[str] = (
        "RSS 0.9x/1.0/2.0 and Atom feeds (a forum, a students' union blog, a status page)"
    )
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec("url", "the feed's http(s) URL", required=True, type=OptionType.URL),
    )

    def pull(self) -> PullResult:
        from servicepulse.sources.services import source_store

        url = str(self.option("url"))
        cursor = dict(self.source.cursor or {})
        response = fetch_feed(url, etag=cursor.get("etag", ""), last_modified=cursor.get("last_modified", ""))
        result = PullResult()
        if response.not_modified:
            return result
        try:
            batch = parse_feed(response.content, base_url=response.url)
        except PayloadError as exc:
            reason = f"{response.url}: {exc}"
            source_store(
                source=self.source,
                mentions=[],
                rejected=[Rejected(raw=response.content, reason=reason, position=response.url)],
                result=result,
            )
            raise ConnectorError(reason, result=result) from exc
        # A malformed document is fetched again in full next time: its validators are not kept.
        new_cursor = (
            {} if batch.malformed else {"etag": response.etag, "last_modified": response.last_modified}
        )
        return source_store(
            source=self.source,
            mentions=batch.mentions,
            rejected=batch.rejected,
            cursor=new_cursor,
            result=result,
        )
