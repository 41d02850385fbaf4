"""`servicepulse import`: stream a file into mentions in committed batches.

Each batch of valid lines and the quarantine rows of its bad lines commit together, and both writes are
idempotent, so an import killed at any moment and run again ends exactly as if it had run once.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DataError, transaction

from servicepulse.mentions.services import mentions_ingest, quarantine_add
from servicepulse.sources.connectors.file_import.client import (
    Line,
    detect_format,
    missing_columns,
    read_lines,
)
from servicepulse.sources.models import Source, SourceKind
from servicepulse.sources.services import SourceConfigError, source_get_or_create

BATCH_SIZE = 500
# Rejected lines an import report names with their reason (all of them are in quarantine): enough to see
# what is wrong with a file without flooding a terminal with a million lines.
REJECTIONS_SHOWN = 20
# What a database (or its driver) raises over one value it will not take. The parser refuses every such
# value it knows of; this is for the next one, so one record can never stop an import that re-runs cannot
# finish. A lost connection (OperationalError) is not among them: that fails the import, to be run again.
REFUSED = (DataError, UnicodeEncodeError, OverflowError)

logger = logging.getLogger(__name__)


class NothingToImport(SourceConfigError):
    """The file holds records, but not one is a mention (binary data, a CSV of something else): refused
    before anything is written, so a wrong file leaves no source and no quarantine behind."""


@dataclass
class ImportReport:
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    # The first REJECTIONS_SHOWN rejected lines as (position, reason), for the person running the import.
    rejections: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"imported": self.imported, "duplicates": self.duplicates, "rejected": self.rejected}

    def reject(self, *, position: str, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < REJECTIONS_SHOWN:
            self.rejections.append((position, reason))

    def add(self, other: ImportReport) -> None:
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.rejections.extend(other.rejections[: REJECTIONS_SHOWN - len(self.rejections)])


def import_file(
    *, path: Path, source_name: str | None = None, on_progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Import `path` (JSON Lines, or CSV/TSV by extension) into the import source `source_name`.

    The source is created with the first record, so a file with none (empty, blank lines, a CSV header
    alone) creates nothing; a file that is no file of mentions at all (a CSV without the needed columns,
    JSON Lines with no JSON object) raises NothingToImport before anything is written; invalid records of a
    file of mentions are quarantined and the valid ones imported. `on_progress` is called
    with the number of bytes read so far, for a progress bar.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    check_importable(path)
    source: Source | None = None
    report = ImportReport()
    batch: list[Line] = []
    size = os.path.getsize(path)
    done = 0

    def flush() -> None:
        nonlocal source
        if source is None:
            source = source_get_or_create(kind=SourceKind.IMPORT, name=source_name or path.stem)
        for line in batch:
            for note in line.notes:
                logger.warning("%s line %d: %s", path.name, line.position, note)
        try:
            with transaction.atomic():
                stored = _store(source=source, lines=batch)
        except REFUSED as exc:
            logger.warning(
                "%s: %s; storing lines %d-%d one at a time",
                path.name,
                _first_line(exc),
                batch[0].position,
                batch[-1].position,
            )
            with transaction.atomic():
                stored = _store_one_at_a_time(source=source, lines=batch)
        report.add(stored)
        batch.clear()

    for line in read_lines(path):
        batch.append(line)
        done += len(line.raw.encode("utf-8", errors="replace")) + 1
        if len(batch) >= BATCH_SIZE:
            flush()
            if on_progress:
                on_progress(min(done, size))
    if batch:
        flush()
    if source is None:
        logger.warning("%s holds no records: nothing imported, no source created", path)
    if on_progress:
        on_progress(size)
    return report


def check_importable(path: Path) -> None:
    """Raise NothingToImport, with why in one line, when `path` has records and not one is a mention."""
    refusal = _nothing_usable(path)
    if refusal:
        raise NothingToImport(f"{path.name} is not a file of mentions: {refusal}; nothing was imported")


def _nothing_usable(path: Path) -> str:
    """Why `path` is not a file of mentions at all, or "" when it is one (or has no records). A file of
    mentions whose records are all invalid is one: they go to quarantine with their reasons, as always. Not
    one is a CSV whose header lacks the needed columns, or a JSON Lines file none of whose lines is a JSON
    object (a binary file, plain text). Reads only as far as the first record, so a good file costs a line."""
    missing = missing_columns(path)
    if missing:
        names = ", ".join(repr(name) for name in missing)
        return f"its header row has no {names} column (id, text and created_at are needed)"
    if detect_format(path) == "csv":
        return ""
    first: Line | None = None
    count = 0
    for line in read_lines(path):
        if line.mention is not None or _is_json_object(line.raw):
            return ""
        count += 1
        first = first or line
    if first is None:
        return ""
    return f"none of its {count} line(s) is a mention (line {first.position}: {first.error})"


def _is_json_object(raw: str) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except (ValueError, RecursionError):
        return False


def _store(*, source: Source, lines: list[Line]) -> ImportReport:
    """Quarantine the bad lines and ingest the good ones; a record the database did not keep is quarantined."""
    report = ImportReport()
    good: dict[str, Line] = {}
    for line in lines:
        if line.mention is None:
            _quarantine(source=source, line=line, reason=line.error, report=report)
        else:
            good.setdefault(line.mention.external_id, line)
    result = mentions_ingest(
        source=source, items=[line.mention for line in lines if line.mention is not None]
    )
    for key in result.not_stored:
        reason = "the database refused to store this record"
        _quarantine(source=source, line=good[key], reason=reason, report=report)
    report.imported += result.created
    report.duplicates += result.duplicates
    return report


def _store_one_at_a_time(*, source: Source, lines: list[Line]) -> ImportReport:
    """`_store`, each record in its own savepoint: the one the database refuses is quarantined with why."""
    report = ImportReport()
    for line in lines:
        try:
            with transaction.atomic():
                report.add(_store(source=source, lines=[line]))
        except REFUSED as exc:
            reason = f"the database refused this record ({_first_line(exc)})"
            _quarantine(source=source, line=line, reason=reason, report=report)
    return report


def _quarantine(*, source: Source, line: Line, reason: str, report: ImportReport) -> None:
    position = f"line {line.position}"
    quarantine_add(source=source, raw=line.raw, reason=reason, position=position)
    report.reject(position=position, reason=reason)


def _first_line(exc: Exception) -> str:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
    return f"{exc.__class__.__name__}: {detail}"
