"""`servicepulse import`: stream a file into mentions in committed batches.

Each batch of valid lines and the quarantine rows of its bad lines commit together, and both writes are
idempotent, so an import killed at any moment and run again ends exactly as if it had run once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from servicepulse.mentions.services import mentions_ingest, quarantine_add
from servicepulse.sources.connectors.file_import.client import Line, read_lines
from servicepulse.sources.models import SourceKind
from servicepulse.sources.services import source_get_or_create

BATCH_SIZE = 500


@dataclass
class ImportReport:
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"imported": self.imported, "duplicates": self.duplicates, "rejected": self.rejected}


def import_file(
    *, path: Path, source_name: str | None = None, on_progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Import `path` (JSON Lines, or CSV by extension) into the import source `source_name`.

    `on_progress` is called with the number of bytes read so far, for a progress bar.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    source = source_get_or_create(kind=SourceKind.IMPORT, name=source_name or path.stem)
    report = ImportReport()
    batch: list[Line] = []
    size = os.path.getsize(path)
    done = 0

    def flush() -> None:
        good = [line.mention for line in batch if line.mention is not None]
        with transaction.atomic():
            for line in batch:
                if line.mention is None:
                    quarantine_add(
                        source=source, raw=line.raw, reason=line.error, position=f"line {line.position}"
                    )
                    report.rejected += 1
            result = mentions_ingest(source=source, items=good)
        report.imported += result.created
        report.duplicates += result.duplicates
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
    if on_progress:
        on_progress(size)
    return report
