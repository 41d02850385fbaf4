"""Reading import files: yields (position, raw text, record-or-error) without holding the file in memory.

Files are UTF-8; a byte-order mark (what Excel writes) is skipped. A line or row that is not UTF-8 is
quarantined as such, like any other bad record, and the rest of the file is read.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from servicepulse.mentions.services import MentionData
from servicepulse.sources.connectors.file_import.parse import (
    REQUIRED,
    ParseError,
    parse_json_line,
    parse_record,
)

# The same ceiling `servicepulse analyze` reads CSV with: a long post is a post (the csv default is 128 KiB).
CSV_FIELD_LIMIT = 10_000_000
# What `errors="surrogateescape"` turns each byte that is not UTF-8 into.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Line:
    position: int  # 1-based line number (CSV: the row's first line)
    raw: str
    mention: MentionData | None
    error: str = ""
    notes: list[str] = field(default_factory=list)  # what was changed in a record that was kept


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv"}:
        return "csv"
    return "jsonl"


def missing_columns(path: Path) -> list[str]:
    """The required fields a CSV (or TSV) file's header row lacks; [] for JSON Lines or a file with no rows."""
    if detect_format(path) != "csv":
        return []
    csv.field_size_limit(CSV_FIELD_LIMIT)
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        try:
            header = next((cells for cells in csv.reader(handle, dialect=dialect) if cells), None)
        except csv.Error:
            return []  # the rows say what is wrong with it, one by one
    if header is None:
        return []
    return [name for name in REQUIRED if name not in {_text([cell]) for cell in header}]


def read_lines(path: Path) -> Iterator[Line]:
    """Every record of the file, valid or not, in order."""
    if detect_format(path) == "csv":
        yield from _read_csv(path, dialect="excel-tab" if path.suffix.lower() == ".tsv" else "excel")
    else:
        yield from _read_jsonl(path)


def _read_jsonl(path: Path) -> Iterator[Line]:
    with path.open("rb") as handle:
        for number, raw_bytes in enumerate(handle, start=1):
            if number == 1 and raw_bytes.startswith(codecs.BOM_UTF8):
                raw_bytes = raw_bytes[len(codecs.BOM_UTF8) :]
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
            notes: list[str] = []
            try:
                yield Line(number, raw.rstrip("\r\n"), parse_json_line(stripped, notes=notes), notes=notes)
            except ParseError as exc:
                yield Line(number, raw.rstrip("\r\n"), None, str(exc))


def _read_csv(path: Path, *, dialect: str) -> Iterator[Line]:
    """Rows of a CSV (or TSV) file with a header row; each row's raw is its text exactly as in the file."""
    csv.field_size_limit(CSV_FIELD_LIMIT)
    # surrogateescape: a byte that is not UTF-8 is carried through the csv module and found per row below,
    # so that row alone is quarantined (as a JSON Lines line would be) and the rows around it are kept.
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        consumed: list[str] = []  # the file's lines read for the current row

        def lines() -> Iterator[str]:
            for text in handle:
                consumed.append(text)
                yield text

        reader = csv.reader(lines(), dialect=dialect)
        header: list[str] | None = None
        while True:
            consumed.clear()
            first = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # the parser restarts on the next line
                yield Line(first, _text(consumed), None, f"not valid CSV ({exc})")
                continue
            if not cells:  # a blank line
                continue
            raw = "".join(consumed).rstrip("\r\n")
            if header is None:
                header = [_text([name]) for name in cells]
                continue
            if _UNDECODABLE.search(raw):
                try:
                    raw.encode("utf-8", errors="surrogateescape").decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield Line(
                        first, _text([raw]), None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
                    )
                    continue
            if len(cells) > len(header):
                yield Line(first, raw, None, f"row has {len(cells)} cells, header has {len(header)}")
                continue
            # A short row leaves its last fields out (then "missing required field"), as csv.DictReader does.
            pairs = zip(header, cells, strict=False)
            record = {key: value for key, value in pairs if value != "" or key == "text"}
            notes: list[str] = []
            try:
                yield Line(first, raw, parse_record(record, notes=notes), notes=notes)
            except ParseError as exc:
                yield Line(first, raw, None, str(exc))


def _text(parts: list[str]) -> str:
    """Text read with surrogateescape as it is kept: bytes that are not UTF-8 shown as U+FFFD."""
    data = "".join(parts).encode("utf-8", errors="surrogateescape")
    return data.decode("utf-8", errors="replace").rstrip("\r\n")
