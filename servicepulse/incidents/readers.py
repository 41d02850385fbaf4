"""The one place where incidents read another app's analysis results (service tags, complaint, sentiment).

The analysis app is built in parallel; until its models exist, `analysed_posts` yields nothing and detection
sees empty buckets. Everything else in this app works on `AnalysedPost` records, so the adapter below is
the only code that knows the analysis app's shape.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any, cast


@dataclass(frozen=True)
class AnalysedPost:
    mention_id: int
    created_at: datetime
    author_key: str
    author: str
    text: str
    service_ids: tuple[str, ...]
    complaint: bool
    sentiment: float | None  # -1 (negative) .. 1 (positive)
    spam: bool = False


def _module(dotted: str) -> ModuleType | None:
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name and dotted.startswith(exc.name):
            return None
        raise


def analysis_available() -> bool:
    return _reader() is not None


def _reader() -> Any:
    selectors = _module("servicepulse.analysis.selectors")
    return getattr(selectors, "analysed_posts", None) if selectors is not None else None


def analysed_posts(
    *, since: datetime, until: datetime, service_ids: list[str] | None = None
) -> Iterator[AnalysedPost]:
    """Analysed, non-spam posts created in [since, until), oldest first."""
    reader = _reader()
    if reader is None:
        return
    for row in reader(since=since, until=until, service_ids=service_ids):
        post = row if isinstance(row, AnalysedPost) else _from_row(row)
        if not post.spam:
            yield post


def _from_row(row: Any) -> AnalysedPost:
    get = row.get if isinstance(row, dict) else lambda name, default=None: getattr(row, name, default)
    return AnalysedPost(
        mention_id=int(get("mention_id") or 0),
        created_at=cast(datetime, get("created_at")),
        author_key=str(get("author_key", "") or ""),
        author=str(get("author", "") or ""),
        text=str(get("text", "") or ""),
        service_ids=tuple(get("service_ids", ()) or ()),
        complaint=bool(get("complaint", False)),
        sentiment=get("sentiment"),
        spam=bool(get("spam", False)),
    )


def unanalysed_since(*, received_after: datetime) -> datetime | None:
    """The creation time of the oldest post received after ``received_after`` that the analysis app has
    not analysed yet (detection waits for it rather than feed an incomplete bucket), or None."""
    if not analysis_available():
        return None
    from django.db.models import Min

    from servicepulse.mentions.models import Mention

    try:
        oldest = Mention.objects.filter(received_at__gte=received_after, analysis__isnull=True).aggregate(
            oldest=Min("created_at")
        )["oldest"]
    except Exception:  # the analysis relation is not there (yet): nothing to wait for
        return None
    return cast(datetime | None, oldest)
