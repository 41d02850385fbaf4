"""Signals per service per time bucket: complaints, distinct complaining authors, all mentions, sentiment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings

from servicepulse.analysis.selectors import AnalysedPost

DEFAULT_BUCKET_MINUTES = 15


def bucket_size() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "SERVICEPULSE_BUCKET_MINUTES", DEFAULT_BUCKET_MINUTES)))


def bucket_floor(moment: datetime, size: timedelta) -> datetime:
    """Start of the bucket holding ``moment`` (buckets are aligned on the Unix epoch, in UTC)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    seconds = int(size.total_seconds())
    offset = int((moment - epoch).total_seconds()) // seconds * seconds
    return epoch + timedelta(seconds=offset)


@dataclass
class SignalBucket:
    start: datetime
    complaints: int = 0
    complaint_authors: int = 0
    mentions: int = 0
    sentiment_mean: float | None = None
    complaint_ids: list[int] = field(default_factory=list)
    author_keys: set[str] = field(default_factory=set, repr=False)
    # The complaining authors whose post is mainly about this service (tagged to it first).
    leading_keys: set[str] = field(default_factory=set, repr=False)
    _sentiments: list[float] = field(default_factory=list, repr=False)


def bucket_signals(
    posts: Iterable[AnalysedPost], *, service_id: str, start: datetime, end: datetime, size: timedelta
) -> list[SignalBucket]:
    """Every bucket in [start, end) for one service, empty buckets included (the detector needs zeros)."""
    first = bucket_floor(start, size)
    buckets: list[SignalBucket] = []
    moment = first
    while moment < end:
        buckets.append(SignalBucket(start=moment))
        moment += size
    for post in posts:
        if service_id not in post.service_ids or not (first <= post.created_at < end):
            continue
        bucket = buckets[int((post.created_at - first) / size)]
        bucket.mentions += 1
        if post.sentiment is not None:
            bucket._sentiments.append(float(post.sentiment))
        if post.complaint:
            bucket.complaints += 1
            bucket.author_keys.add(post.author_key)
            if post.service_ids[:1] == (service_id,):
                bucket.leading_keys.add(post.author_key)
            bucket.complaint_ids.append(post.mention_id)
    for bucket in buckets:
        bucket.complaint_authors = len(bucket.author_keys)
        if bucket._sentiments:
            bucket.sentiment_mean = sum(bucket._sentiments) / len(bucket._sentiments)
    return buckets
