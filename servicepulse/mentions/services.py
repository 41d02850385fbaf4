"""Writing mentions: every connector and importer stores posts through `mentions_ingest`."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils import timezone

from servicepulse.core.http import safe_url
from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.mentions.selectors import mentions_by_author, quarantine_by_author
from servicepulse.mentions.signals import (
    author_erasing,
    mentions_expiring,
    mentions_ingested,
    mentions_revised,
)
from servicepulse.sources.models import Source

logger = logging.getLogger(__name__)


def _max_length(name: str) -> int:
    column = Mention._meta.get_field(name)
    assert isinstance(column, models.CharField) and column.max_length
    return column.max_length


# How long each text column of a mention may be, for parsers that must refuse what will not fit (an id cut
# short would be another post's id) rather than fail the whole batch at write time.
MENTION_MAX_LENGTH: dict[str, int] = {
    name: _max_length(name)
    for name in ("external_id", "author", "author_id", "url", "in_reply_to", "thread_id", "language")
}


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
    # External ids of new items the database did not store (SQLite's INSERT OR IGNORE drops a row that fails
    # a CHECK without an error): the caller keeps them elsewhere (quarantine) so nothing is lost unseen.
    not_stored: list[str] = field(default_factory=list)

    def merge(self, other: IngestResult) -> None:
        self.created += other.created
        self.duplicates += other.duplicates
        self.mention_ids.extend(other.mention_ids)
        self.not_stored.extend(other.not_stored)


def mentions_ingest(*, source: Source, items: Sequence[MentionData]) -> IngestResult:
    """Store `items` for `source` in one transaction; ids the source already has count as duplicates.

    Idempotent: running it again with the same items changes nothing. Duplicates inside `items` are
    collapsed (first wins). `created` counts the new items found in the database after the write, never the
    attempts; those not found are listed in `not_stored`. A `url` that is not http(s) is dropped (it is shown
    as a link). After commit, `mentions_ingested` is sent with the new mentions' ids.
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
    limit = MENTION_MAX_LENGTH
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
                author=item.author[: limit["author"]],
                author_id=item.author_id[: limit["author_id"]],
                url=safe_url(item.url)[: limit["url"]],
                in_reply_to=item.in_reply_to[: limit["in_reply_to"]],
                thread_id=item.thread_id[: limit["thread_id"]],
                language=item.language[: limit["language"]],
                raw=item.raw,
            )
            for key, item in unique.items()
            if key not in existing
        ]
        # Another process may insert the same ids between our read and our write: ignore_conflicts keeps
        # the store exact (one row per id) whichever process wins. It also hides a row SQLite refused, so
        # what was stored is read back rather than assumed (a row the other process won counts for both).
        Mention.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=500)
        stored = dict(
            Mention.objects.filter(source=source, external_id__in=[m.external_id for m in fresh]).values_list(
                "external_id", "id"
            )
        )
        result.mention_ids = sorted(stored.values())
        result.created = len(stored)
        result.not_stored = [m.external_id for m in fresh if m.external_id not in stored]
        if result.not_stored:
            logger.warning(
                "source %s: the database did not store %d new mention(s): %s",
                source.name,
                len(result.not_stored),
                ", ".join(repr(key[:80]) for key in result.not_stored[:10]),
            )
        ids = list(result.mention_ids)
        transaction.on_commit(lambda: mentions_ingested.send(sender=Mention, mention_ids=ids))
    return result


def mentions_revise(*, source: Source, items: Sequence[MentionData]) -> list[int]:
    """Apply edits the platform reported to posts already stored: a changed text replaces the stored one
    (with its raw payload). Returns the ids of the mentions that changed; after commit, `mentions_revised`
    is sent with them so they are read again. Items not stored yet are left to `mentions_ingest`."""
    changed: list[int] = []
    with transaction.atomic():
        for item in items:
            mention = (
                Mention.objects.select_for_update()
                .filter(source=source, external_id=item.external_id)
                .first()
            )
            if mention is None or mention.text == item.text:
                continue
            mention.text, mention.raw = item.text, item.raw
            mention.save(update_fields=["text", "raw"])
            changed.append(mention.pk)
        if changed:
            ids = list(changed)
            transaction.on_commit(lambda: mentions_revised.send(sender=Mention, mention_ids=ids))
    return changed


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


def quarantine_discard(*, source: Source, ids: Sequence[int] | None = None) -> int:
    """Delete quarantined input of `source` once someone has read it: the rows `ids`, or all of them (None).
    Returns how many were deleted. Re-running the import or redelivery that brought a row back keeps it again.
    """
    rows = Quarantine.objects.filter(source=source)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    deleted, _ = rows.delete()
    return deleted


ERASED = "[erased]"


@dataclass
class AuthorErasure:
    """What `mentions_erase_author` erased: the person's posts, and what the other apps' receivers of
    `author_erasing` reported (for instance {"blog comments deleted": 2}), in the order they answered."""

    posts: int
    elsewhere: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def mentions_erase_author(*, author: str, source: Source | None = None) -> AuthorErasure:
    """Erase a person: every mention whose author name or platform id is `author` (with its analysis,
    tags, corrections, inbox cases and incident attachments, which cascade), their quarantined input, and
    whatever other apps hold (through `author_erasing`, sent before the mentions are deleted: the incidents
    app recounts the people affected and takes the person out of its explanations and notes; the blog erases
    their comments, those behind their posts and those that never became posts). In other people's raw
    payloads, a value that is exactly their name or platform id becomes "[erased]". Returns the number of
    mentions deleted and the counts the receivers reported (and of the raw payloads changed).

    Quarantined input is theirs when, read as JSON, a string in it is `author`; read as a CSV (or TSV) row,
    a cell is `author`. Another person's input that merely mentions the name is kept."""
    if not author.strip():
        raise ValueError("name the author to erase")
    mentions = mentions_by_author(author=author, source=source)
    quarantined = [row.pk for row in quarantine_by_author(author=author, source=source)]
    ids = list(mentions.values_list("pk", flat=True))
    names = {author, *(v for pair in mentions.values_list("author", "author_id") for v in pair)}
    # Before the posts go: receivers find what they hold through them (an incident's attachments).
    answers = author_erasing.send(
        sender=Mention, author=author, mention_ids=ids, source_id=source.pk if source is not None else None
    )
    mentions.delete()
    Quarantine.objects.filter(pk__in=quarantined).delete()
    elsewhere: dict[str, int] = {
        "other posts whose raw payload named them": _raw_payloads_without(names=names, source=source)
    }
    for _receiver, answer in answers:
        if isinstance(answer, dict):
            elsewhere.update(answer)
    return AuthorErasure(posts=len(ids), elsewhere=elsewhere)


def _raw_payloads_without(*, names: set[str], source: Source | None) -> int:
    """Write "[erased]" for every value in other people's raw payloads that is exactly one of `names` (a
    Reddit comment keeps its thread's author as `link_author`, a Mastodon reply the account it answers, an X
    reply the user it answers). Their words are left as they wrote them. Returns how many posts changed."""
    # Not "a", nor a short number ("42"): other values in a payload (counts, scores) would be taken for them.
    names = {n for n in names if len(n.strip()) > 1 and not (n.isdigit() and len(n) < 6)}
    if not names:
        return 0
    # The database narrows by substring of the stored JSON (the name as written, or JSON-escaped).
    wanted = Q()
    for name in names:
        wanted |= Q(raw_text__contains=name) | Q(raw_text__contains=json.dumps(name)[1:-1])
    candidates = Mention.objects.annotate(raw_text=Cast("raw", models.TextField())).filter(wanted)
    if source is not None:
        candidates = candidates.filter(source=source)
    changed = 0
    for mention in candidates.only("pk", "raw").iterator():
        raw = _without_names(mention.raw, names)
        if raw != mention.raw:
            Mention.objects.filter(pk=mention.pk).update(raw=raw)
            changed += 1
    return changed


def _without_names(value: Any, names: set[str], depth: int = 0) -> Any:
    if isinstance(value, str):
        return ERASED if value in names else value
    if depth > 100:  # deeper than any platform nests (as `_without_nul`)
        return value
    if isinstance(value, dict):
        return {k: _without_names(v, names, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_names(v, names, depth + 1) for v in value]
    return value


def mentions_apply_retention(*, now: datetime | None = None) -> int:
    """Delete posts older than their source's retention period, and that source's quarantined input received
    before it (raw input holds the same names and words); receivers of `mentions_expiring` forget what they
    copied from those posts in the same transaction. Returns how many posts were deleted."""
    now = now or timezone.now()
    deleted = 0
    for source in Source.objects.filter(retention_days__isnull=False):
        try:
            cutoff = now - timedelta(days=source.retention_days or 0)
        except OverflowError:  # a period stored before it was checked: keep everything, go on with the others
            logger.warning(
                "source %s: retention of %s days is out of range; nothing deleted",
                source.name,
                source.retention_days,
            )
            continue
        expired = Mention.objects.filter(source=source, created_at__lt=cutoff)
        with transaction.atomic():
            ids = list(expired.values_list("pk", flat=True))
            if ids:
                # Before they go: the incidents app takes their names and words out of its explanations.
                mentions_expiring.send(sender=Mention, mention_ids=ids)
                Mention.objects.filter(pk__in=ids).delete()
            Quarantine.objects.filter(source=source, received_at__lt=cutoff).delete()
        deleted += len(ids)
    return deleted
