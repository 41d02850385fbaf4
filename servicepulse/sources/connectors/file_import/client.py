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
        at_end: list[bool] = []  # the reader asked for a line past the last one

        def lines() -> Iterator[str]:
            for text in handle:
                consumed.append(text)
                yield text
            at_end.append(True)

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
            # The csv module ends a quoted field left open at the end of the file there, without a word: one
            # stray quote made the rest of the file one row, reported as a missing field.
            opened = (
                _unclosed_quote_line(consumed, delimiter=csv.get_dialect(dialect).delimiter)
                if at_end
                else None
            )
            if opened is not None:
                last = first + len(consumed) - 1
                yield Line(
                    first,
                    _text([raw]),
                    None,
                    f"unclosed quote: the quoted field opened on line {first + opened} never closes (it runs to "
                    f"the end of the file, line {last}); close it (a quote inside a field is written twice) and "
                    "import the file again (lines already imported count as duplicates)",
                )
                continue
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


def _unclosed_quote_line(lines: list[str], *, delimiter: str) -> int | None:
    """The index in `lines` (the last CSV row of a file, as read) of the line whose quoted field is still open
    at the end of the file, or None when every quote closes. Follows the csv module's reading of the excel
    dialects: a quote opens a field only at its start, and inside one a doubled quote is a quote."""
    ends = (delimiter, "\n", "\r")
    state, opened = "start", 0
    for index, line in enumerate(lines):
        for char in line:
            if state == "quoted":
                if char == '"':
                    state = "quote in quoted"
            elif state == "quote in quoted":
                state = "quoted" if char == '"' else "start" if char in ends else "field"
            elif state == "start":
                if char == '"':
                    state, opened = "quoted", index
                elif char not in ends:
                    state = "field"
            elif char in ends:
                state = "start"
    return opened if state == "quoted" else None


def _text(parts: list[str]) -> str:
    """Text read with surrogateescape as it is kept: bytes that are not UTF-8 shown as U+FFFD."""
    data = "".join(parts).encode("utf-8", errors="surrogateescape")
    return data.decode("utf-8", errors="replace").rstrip("\r\n")
