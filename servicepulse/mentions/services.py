"""Writing mentions: every connector and importer stores posts through `mentions_ingest`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.mentions.signals import author_erasing, mentions_ingested
from servicepulse.sources.models import Source


@dataclass(frozen=True)
class MentionData:
    """A post in canonical form, as a connector's `parse.py` produces it."""

    external_id: str
    text: str
    created_at: datetime
    author: str = ""
    author_id: str = ""
    url: str = ""
    in_reply_to: str = ""
    thread_id: str = ""
    language: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # PostgreSQL refuses NUL in text and jsonb; a post never means anything by one, so it goes here,
        # once, for every connector, and a delivery is never lost to a database error over it.
        for name in (
            "external_id",
            "text",
            "author",
            "author_id",
            "url",
            "in_reply_to",
            "thread_id",
            "language",
        ):
            value = getattr(self, name)
            if "\x00" in value:
                object.__setattr__(self, name, value.replace("\x00", ""))
        object.__setattr__(self, "raw", _without_nul(self.raw))
        if not self.external_id:
            raise ValueError("external_id is empty")
        if not self.text or not self.text.strip():
            raise ValueError("text is empty")
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ValueError("created_at has no time zone")


def _without_nul(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if depth > 100:  # deeper than any platform nests; keep it as text rather than recurse without end
        return str(value).replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k, depth + 1): _without_nul(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v, depth + 1) for v in value]
    return value


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    mention_ids: list[int] = field(default_factory=list)

    def merge(self, other: IngestResult) -> None:
        self.created += other.created
        self.duplicates += other.duplicates
        self.mention_ids.extend(other.mention_ids)


def mentions_ingest(*, source: Source, items: Sequence[MentionData]) -> IngestResult:
    """Store `items` for `source` in one transaction; ids the source already has count as duplicates.

    Idempotent: running it again with the same items changes nothing. Duplicates inside `items` are
    collapsed (first wins). After commit, `mentions_ingested` is sent with the new mentions' ids.
    """
    result = IngestResult()
    unique: dict[str, MentionData] = {}
    for item in items:
        if item.external_id in unique:
            result.duplicates += 1
        else:
            unique[item.external_id] = item
    if not unique:
        return result
    with transaction.atomic():
        existing = set(
            Mention.objects.filter(source=source, external_id__in=list(unique)).values_list(
                "external_id", flat=True
            )
        )
        result.duplicates += len(existing)
        fresh = [
            Mention(
                source=source,
                external_id=item.external_id,
                text=item.text,
                created_at=item.created_at,
                author=item.author[:255],
                author_id=item.author_id[:255],
                url=item.url[:1000],
                in_reply_to=item.in_reply_to[:255],
                thread_id=item.thread_id[:255],
                language=item.language[:16],
                raw=item.raw,
            )
            for key, item in unique.items()
            if key not in existing
        ]
        # Another process may insert the same ids between our read and our write: ignore_conflicts keeps
        # the store exact (one row per id) whichever process wins.
        Mention.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=500)
        result.mention_ids = sorted(
            Mention.objects.filter(source=source, external_id__in=[m.external_id for m in fresh]).values_list(
                "id", flat=True
            )
        )
        result.created = len(fresh)
        ids = list(result.mention_ids)
        transaction.on_commit(lambda: mentions_ingested.send(sender=Mention, mention_ids=ids))
    return result


def quarantine_add(*, source: Source | None, raw: str | bytes, reason: str, position: str | int = "") -> bool:
    """Keep input that could not be stored as a mention. Returns False when this exact input is already kept."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = text.replace("\x00", "\\u0000")  # kept visible, escaped: PostgreSQL refuses NUL in text
    position = str(position)
    fingerprint = hashlib.sha256(f"{position}\x00{text}".encode()).hexdigest()
    try:
        with transaction.atomic():
            _, created = Quarantine.objects.get_or_create(
                source=source,
                fingerprint=fingerprint,
                defaults={"raw": text, "reason": reason[:2000], "position": position},
            )
    except IntegrityError:  # a concurrent writer kept it first
        return False
    return created


@transaction.atomic
def mentions_erase_author(*, author: str, source: Source | None = None) -> int:
    """Erase a person: every mention whose author name or platform id is `author` (with its analysis,
    tags, corrections and inbox cases, which cascade), their quarantined input, and whatever other apps
    hold (through `author_erasing`). Returns the number of mentions deleted."""
    if not author.strip():
        raise ValueError("name the author to erase")
    mentions = Mention.objects.filter(Q(author=author) | Q(author_id=author))
    quarantined = Quarantine.objects.filter(raw__contains=f'"{author}"')  # the author as a JSON/CSV value
    if source is not None:
        mentions = mentions.filter(source=source)
        quarantined = quarantined.filter(source=source)
    count = mentions.count()
    mentions.delete()
    quarantined.delete()
    author_erasing.send(sender=Mention, author=author)
    return count


def mentions_apply_retention(*, now: datetime | None = None) -> int:
    """Delete posts older than their source's retention period. Returns how many were deleted."""
    now = now or timezone.now()
    deleted = 0
    for source in Source.objects.filter(retention_days__isnull=False):
        cutoff = now - timedelta(days=source.retention_days or 0)
        count, _ = Mention.objects.filter(source=source, created_at__lt=cutoff).delete()
        deleted += count
    return deleted
