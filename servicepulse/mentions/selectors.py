"""Reads over mentions and quarantine."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.mentions.signals import author_exporting
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


def mentions_by_author(*, author: str, source: Source | None = None) -> QuerySet[Mention]:
    """A person's posts: those whose author name or platform id is exactly `author` (what `erase-author`
    erases and `export-author` exports)."""
    mentions = Mention.objects.filter(Q(author=author) | Q(author_id=author))
    return mentions if source is None else mentions.filter(source=source)


def author_spellings(*, author: str, limit: int = 5) -> list[str]:
    """Names and platform ids stored on posts that differ from `author` only in case or a leading "@": what
    the person asking to be erased or exported is probably stored as, when `author` itself matches nothing."""
    bare = author.strip().removeprefix("@")
    if not bare:
        return []
    found: set[str] = set()
    for column in ("author", "author_id"):
        wanted = Q(**{f"{column}__iexact": bare}) | Q(**{f"{column}__iexact": f"@{bare}"})
        found.update(Mention.objects.filter(wanted).values_list(column, flat=True).distinct()[:limit])
    found.discard(author)
    return sorted(found)[:limit]


def quarantine_by_author(*, author: str, source: Source | None = None) -> list[Quarantine]:
    """A person's quarantined input: read as JSON, a string in it is `author`; read as a CSV (or TSV) row, a
    cell is `author`. Another person's input that merely mentions the name is not theirs."""
    # The database narrows by substring (the name as written, or JSON-escaped); Python decides exactly.
    candidates = Quarantine.objects.filter(
        Q(raw__contains=author) | Q(raw__contains=json.dumps(author)[1:-1])
    ).select_related("source")
    if source is not None:
        candidates = candidates.filter(source=source)
    return [row for row in candidates.iterator() if _quarantined_from(raw=row.raw, author=author)]


def _quarantined_from(*, raw: str, author: str) -> bool:
    """Whether the quarantined `raw` input names `author` as a whole value (not inside another's words)."""
    text = raw.strip()
    if text.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            # Malformed JSON (often why it is here): the name as a quoted JSON string is all we can go by.
            return any(f'"{form}"' in text for form in (author, json.dumps(author)[1:-1]))
        return any(string == author for string in _json_strings(value))
    # A CSV or TSV row: which column held the author is unknown without the file's header (and a row is
    # often quarantined because its cells are shifted), so any whole cell that is the name counts.
    for delimiter in (",", "\t"):
        try:
            rows = list(csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        if any(cell.strip() == author for row in rows for cell in row):
            return True
    return False


def _json_strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


# How deep `author_export` follows what hangs off a post (a post -> its inbox case -> the replies sent).
_LINK_DEPTH = 2


# What `export-author` finds that an erasure keeps on purpose (SECURITY.md: a person who asked not to be
# answered is not answered again), so it is not something `erase-author` would erase.
KEPT_AFTER_ERASURE = frozenset({"reply opt-outs"})


def author_erasure_reach(*, author: str, source: Source | None = None) -> dict[str, int]:
    """What `erase-author` would erase for `author`, counted by kind (only kinds with something): their posts,
    their quarantined input, and what the receivers of `author_exporting` hold elsewhere (blog comments...),
    the same matching as the erasure. Empty: nothing is stored under that exact name or id."""
    if not author.strip():
        raise ValueError("name the author to erase")
    ids = list(mentions_by_author(author=author, source=source).values_list("pk", flat=True))
    counts = {
        "posts": len(ids),
        "quarantined inputs": len(quarantine_by_author(author=author, source=source)),
    }
    elsewhere = _held_elsewhere(author=author, mention_ids=ids, source=source)
    counts.update((what, len(rows)) for what, rows in elsewhere.items() if what not in KEPT_AFTER_ERASURE)
    return {what: count for what, count in counts.items() if count}


def _held_elsewhere(*, author: str, mention_ids: list[int], source: Source | None) -> dict[str, Any]:
    """What the receivers of `author_exporting` hold about `author` outside the posts, by kind."""
    held: dict[str, Any] = {}
    answers = author_exporting.send(
        sender=Mention,
        author=author,
        mention_ids=mention_ids,
        source_id=source.pk if source is not None else None,
    )
    for _receiver, answer in answers:
        if isinstance(answer, dict):
            held.update(answer)
    return held


def author_export(
    *, author: str, source: Source | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Everything held about one person, for a subject access request (`servicepulse export-author`): their
    posts as stored (raw payload included), each with every record that belongs to it in the other apps
    (analysis and service tags, corrections, inbox case with its notes and replies, closed-loop replies,
    incident attachments...; found through the relations that are deleted with the post, so a new app's
    records are included without a change here), their quarantined input, and what the receivers of
    `author_exporting` hold elsewhere (for instance blog comments). A JSON-ready dict."""
    if not author.strip():
        raise ValueError("name the author to export")
    posts = list(
        mentions_by_author(author=author, source=source).select_related("source").order_by("created_at", "pk")
    )
    elsewhere = _held_elsewhere(author=author, mention_ids=[m.pk for m in posts], source=source)
    return {
        "author": author,
        "source": source.name if source is not None else None,
        "exported_at": (now or timezone.now()).isoformat(),
        "matched_on": "posts whose author name or platform id is exactly this",
        "posts": [
            {
                "source": post.source.name,
                "source_kind": post.source.kind,
                **_fields(post, skip={"source"}),
                "linked": _linked(post, depth=_LINK_DEPTH),
            }
            for post in posts
        ],
        "quarantined": [
            {
                "source": row.source.name if row.source else None,
                **_fields(row, skip={"source", "fingerprint"}),
            }
            for row in quarantine_by_author(author=author, source=source)
        ],
        "elsewhere": elsewhere,
    }


def _linked(instance: models.Model, *, depth: int) -> dict[str, list[dict[str, Any]]]:
    """The records that belong to `instance`: those of every relation deleted with it (CASCADE), following
    them `depth` levels down. A relation that only points at it (SET_NULL: another person's near-duplicate
    of this post) belongs to someone else and is left out."""
    out: dict[str, list[dict[str, Any]]] = {}
    if depth <= 0:
        return out
    for relation in instance._meta.related_objects:
        if relation.many_to_many or relation.on_delete is not models.CASCADE:
            continue
        field = relation.field
        rows = relation.related_model._default_manager.filter(**{field.name: instance}).order_by("pk")
        records = []
        for row in rows:
            record = _fields(row, skip={field.name})
            children = _linked(row, depth=depth - 1)
            if children:
                record["linked"] = children
            records.append(record)
        if records:
            out[relation.related_model._meta.label] = records
    return out


def _fields(instance: models.Model, *, skip: set[str]) -> dict[str, Any]:
    """The row's own columns (a foreign key as its id), JSON-ready."""
    out: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in skip:
            continue
        value = getattr(instance, field.attname)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif value is not None and not isinstance(value, (str, int, float, bool, list, dict)):
            value = str(value)
        out[field.name] = value
    return out
