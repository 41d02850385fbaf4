"""Reading import files: yields (position, raw text, record-or-error) without holding the file in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from servicepulse.mentions.services import MentionData
from servicepulse.sources.connectors.file_import.parse import ParseError, parse_json_line, parse_record


@dataclass(frozen=True)
class Line:
    position: int  # 1-based line number (CSV: the row's first line)
    raw: str
    mention: MentionData | None
    error: str = ""


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv"}:
        return "csv"
    return "jsonl"


def read_lines(path: Path) -> Iterator[Line]:
    """Every record of the file, valid or not, in order."""
    if detect_format(path) == "csv":
        yield from _read_csv(path)
    else:
        yield from _read_jsonl(path)


def _read_jsonl(path: Path) -> Iterator[Line]:
    with path.open("rb") as handle:
        for number, raw_bytes in enumerate(handle, start=1):
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError as exc:
                raw = raw_bytes.decode("utf-8", errors="replace")
                yield Line(
                    number, raw.rstrip("\r\n"), None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
                )
                continue
            stripped = raw.strip()
            if not stripped:
                continue
            try:
                yield Line(number, raw.rstrip("\r\n"), parse_json_line(stripped))
            except ParseError as exc:
                yield Line(number, raw.rstrip("\r\n"), None, str(exc))


def _read_csv(path: Path) -> Iterator[Line]:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            return
        fields = list(reader.fieldnames)
        for row in reader:
            number = reader.line_num
            buffer = io.StringIO()
            csv.writer(buffer).writerow([row.get(name, "") for name in fields])
            raw = buffer.getvalue().rstrip("\r\n")
            if None in row:
                yield Line(
                    number,
                    raw,
                    None,
                    f"row has {len(fields) + len(row[None])} cells, header has {len(fields)}",
                )
                continue
            record = {key: value for key, value in row.items() if value not in (None, "") or key in ("text",)}
            try:
                yield Line(number, raw, parse_record(record))
            except ParseError as exc:
                yield Line(number, raw, None, str(exc))
