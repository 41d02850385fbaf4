"""`servicepulse export` / `servicepulse restore`: mentions with their analysis and corrections as JSON Lines.

One line per mention, oldest first: the import fields (`id`, `text`, `created_at`, `author`, `url`,
`in_reply_to`, `lang`) plus `source`, `source_kind`, `author_id`, `thread_id`, `raw`, `analysis` (the models'
own answer, the effective labels and scores) and `corrections`. Restoring an export into a database with the
same catalogue gives back exactly what was exported (export → restore → export is byte-identical), and
restoring twice changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import transaction

from servicepulse.analysis.models import Correction, MentionAnalysis
from servicepulse.analysis.services import analysis_save, correction_create
from servicepulse.mentions.models import Mention
from servicepulse.mentions.services import MentionData, mentions_ingest, quarantine_add
from servicepulse.sources.connectors.file_import.parse import ParseError, parse_timestamp
from servicepulse.sources.models import Source
from servicepulse.sources.services import SourceConfigError, source_get_or_create

BATCH = 500


def _analysis_record(analysis: MentionAnalysis | None) -> dict[str, Any] | None:
    if analysis is None:
        return None
    return {
        "model_output": analysis.model_output,
        "complaint": analysis.complaint,
        "complaint_score": analysis.complaint_score,
        "sentiment": analysis.sentiment,
        "sentiment_score": analysis.sentiment_score,
        "spam": analysis.spam,
        "spam_score": analysis.spam_score,
        "services": analysis.service_ids,
        "language": analysis.language,
        "model_version": analysis.model_version,
        "duplicate_of": analysis.duplicate_of.external_id if analysis.duplicate_of is not None else None,
    }


def export_records(*, source: Source | None = None) -> Iterator[dict[str, Any]]:
    qs = Mention.objects.select_related("source", "analysis", "analysis__duplicate_of").prefetch_related(
        "analysis__tags", "corrections"
    )
    if source is not None:
        qs = qs.filter(source=source)
    for mention in qs.order_by("created_at", "id").iterator(chunk_size=BATCH):
        analysis = getattr(mention, "analysis", None)
        corrections = sorted(mention.corrections.all(), key=lambda c: (c.created_at, c.pk))
        yield {
            "id": mention.external_id,
            "text": mention.text,
            "created_at": mention.created_at.isoformat(),
            "author": mention.author,
            "author_id": mention.author_id,
            "url": mention.url,
            "in_reply_to": mention.in_reply_to,
            "thread_id": mention.thread_id,
            "lang": mention.language,
            "source": mention.source.name,
            "source_kind": mention.source.kind,
            "raw": mention.raw,
            "analysis": _analysis_record(analysis),
            "corrections": [{"field": c.field, "value": c.value} for c in corrections],
        }


def export_write(handle: IO[str] | Any, *, source: Source | None = None) -> int:
    """Write the export to `handle` (a text file, or a management command's stdout)."""
    count = 0
    for record in export_records(source=source):
        handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


@dataclass
class RestoreReport:
    restored: int = 0
    duplicates: int = 0
    rejected: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"restored": self.restored, "duplicates": self.duplicates, "rejected": self.rejected}


def _mention(record: Any) -> MentionData:
    if not isinstance(record, dict):
        raise ParseError(f"expected a JSON object, got {type(record).__name__}")
    for name in ("id", "text", "created_at", "source", "source_kind"):
        if not isinstance(record.get(name), str) or not record[name]:
            raise ParseError(f"{name} must be a non-empty string")
    try:
        return MentionData(
            external_id=record["id"],
            text=record["text"],
            created_at=parse_timestamp(record["created_at"]),
            author=str(record.get("author") or ""),
            author_id=str(record.get("author_id") or ""),
            url=str(record.get("url") or ""),
            in_reply_to=str(record.get("in_reply_to") or ""),
            thread_id=str(record.get("thread_id") or ""),
            language=str(record.get("lang") or ""),
            raw=raw if isinstance(raw := record.get("raw"), dict) else {},
        )
    except ValueError as exc:
        raise ParseError(str(exc)) from None


def _restore_analysis(mention: Mention, record: dict[str, Any]) -> None:
    analysis = record.get("analysis")
    if isinstance(analysis, dict):
        output = analysis.get("model_output") or {}
        duplicate = analysis.get("duplicate_of")
        duplicate_id = (
            Mention.objects.filter(source=mention.source, external_id=duplicate)
            .values_list("id", flat=True)
            .first()
            if duplicate
            else None
        )
        analysis_save(
            mention=mention,
            complaint=bool(output.get("complaint", analysis.get("complaint"))),
            complaint_score=float(analysis.get("complaint_score") or 0),
            sentiment=str(output.get("sentiment", analysis.get("sentiment", "neutral"))),
            sentiment_score=float(analysis.get("sentiment_score") or 0),
            spam=bool(output.get("spam", analysis.get("spam"))),
            spam_score=float(analysis.get("spam_score") or 0),
            services=[(str(s), float(c)) for s, c in output.get("services", [])],
            language=str(analysis.get("language") or ""),
            model_version=str(analysis.get("model_version") or ""),
            duplicate_of_id=duplicate_id,
        )
    if not Correction.objects.filter(mention=mention).exists():
        for correction in record.get("corrections") or []:
            correction_create(mention=mention, field=correction["field"], value=correction["value"])


def restore_file(*, path: Path, on_progress: Callable[[int], None] | None = None) -> RestoreReport:
    """Restore an export. Bad lines go to quarantine with their line number; re-running adds nothing."""
    report = RestoreReport()
    sources: dict[str, Source] = {}
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                data = _mention(record)
                name = record["source"]
                if name not in sources:
                    sources[name] = source_get_or_create(kind=record["source_kind"], name=name)
            except (json.JSONDecodeError, ParseError, SourceConfigError) as exc:
                quarantine_add(source=None, raw=line.rstrip("\n"), reason=str(exc), position=f"line {number}")
                report.rejected += 1
                continue
            source = sources[name]
            with transaction.atomic():
                result = mentions_ingest(source=source, items=[data])
                mention = Mention.objects.get(source=source, external_id=data.external_id)
                if result.created:
                    _restore_analysis(mention, record)
            report.restored += result.created
            report.duplicates += result.duplicates
            if on_progress is not None:
                on_progress(number)
    return report
