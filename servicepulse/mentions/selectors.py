"""Reads over mentions and quarantine."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Min, QuerySet

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.models import Source


def mention_list(*, source_id: int | None = None, since: datetime | None = None) -> QuerySet[Mention]:
    qs = Mention.objects.select_related("source")
    if source_id is not None:
        qs = qs.filter(source_id=source_id)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs


def mention_first_at() -> datetime | None:
    """When the oldest stored post was written (None without any)."""
    first: datetime | None = Mention.objects.aggregate(first=Min("created_at"))["first"]
    return first


def mention_counts() -> dict[str, object]:
    """What `servicepulse stats` prints."""
    per_source = dict(Source.objects.annotate(n=Count("mentions")).order_by("name").values_list("name", "n"))
    return {
        "mentions": Mention.objects.count(),
        "quarantined": Quarantine.objects.count(),
        "sources": per_source,
    }


def quarantine_list(*, source_id: int) -> QuerySet[Quarantine]:
    """A source's quarantined input, newest first: what could not become a post, and why."""
    return Quarantine.objects.filter(source_id=source_id).order_by("-received_at", "-id")
