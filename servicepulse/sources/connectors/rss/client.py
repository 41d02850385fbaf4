"""Fetching a feed through the guarded fetcher (feedparser only ever sees bytes), with conditional GET."""

from __future__ import annotations

from servicepulse.core.fetcher import FetchError, FetchResponse, fetch
from servicepulse.sources.registry import ConnectorError

MAX_FEED_BYTES = 10 * 1024 * 1024
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, */*;q=0.5"
)


def fetch_feed(url: str, *, etag: str = "", last_modified: str = "") -> FetchResponse:
    try:
        return fetch(
            url,
            headers={"Accept": ACCEPT},
            etag=etag,
            last_modified=last_modified,
            max_bytes=MAX_FEED_BYTES,
        )
    except FetchError as exc:
        raise ConnectorError(f"{url}: {exc}", retry_after=exc.retry_after) from exc
