"""Batch detection over a regular series of counts: what `servicepulse detect` and the NAB benchmark run.

Input rows carry ``timestamp`` (ISO 8601; a time without an offset is taken as UTC) and ``value`` (a
non-negative count), in time order, one per bucket with no gaps. Output rows carry the original
``timestamp``, ``alert`` (1 where the detector confirms an incident, i.e. where an alert would be sent)
and ``score`` (the detector's evidence, -log10 of a tail probability). The detector is the product's,
with its one fixed configuration; only the bucket size is read from the series.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from servicepulse.incidents.detection import Detector, DetectorConfig

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

REQUIRED_COLUMNS = ("timestamp", "value")


class SeriesError(ValueError):
    """Bad input; the message is one line and names the offending row (CSV line number)."""


def _parse_timestamp(text: str, line: int) -> datetime:
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SeriesError(f"line {line}: timestamp {text!r} is not an ISO 8601 date-time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp


def _parse_value(text: str | None, line: int) -> float:
    if text is None:  # a short row: csv.DictReader fills the missing column with None
        raise SeriesError(f"line {line}: no value (need timestamp,value)")
    try:
        value = float((text or "").strip())
    except ValueError:
        raise SeriesError(f"line {line}: value {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise SeriesError(f"line {line}: value {text!r} is not a non-negative count")
    return value


def parse_series(rows: Iterable[Mapping[str, str | None]]) -> list[tuple[str, datetime, float]]:
    """Validate rows (as from ``csv.DictReader``; line numbers count the header as line 1) and return
    ``(original timestamp, aware datetime, value)`` triples."""
    return parse_numbered_series(enumerate(rows, start=2))


def parse_numbered_series(
    rows: Iterable[tuple[int, Mapping[str, str | None]]],
) -> list[tuple[str, datetime, float]]:
    """``parse_series`` over ``(line number, row)`` pairs, for a reader that skips blank lines. Every row is
    read and the order checked before the spacing, so rows out of order are reported as such rather than as
    the gap they leave."""
    parsed: list[tuple[str, datetime, float]] = []
    lines: list[int] = []
    for number, row in rows:
        missing = [c for c in REQUIRED_COLUMNS if c not in row]
        if missing:
            raise SeriesError(f"missing column {missing[0]!r} (need columns: timestamp,value)")
        raw_stamp = row["timestamp"]
        if raw_stamp is None or not raw_stamp.strip():
            raise SeriesError(f"line {number}: empty timestamp")
        stamp = _parse_timestamp(raw_stamp, number)
        value = _parse_value(row["value"], number)
        if parsed:
            previous_raw, previous, _ = parsed[-1]
            if stamp == previous:
                raise SeriesError(f"line {number}: duplicate timestamp {raw_stamp!r}")
            if stamp < previous:
                raise SeriesError(
                    f"line {number}: timestamp {raw_stamp!r} is earlier than the previous row's "
                    f"{previous_raw!r} (rows must be sorted by time)"
                )
        parsed.append((raw_stamp, stamp, value))
        lines.append(number)
    if not parsed:
        raise SeriesError("no data rows (need a header timestamp,value and at least one row)")
    step: timedelta | None = None
    for (_, previous, _), (_, stamp, _), number in zip(parsed, parsed[1:], lines[1:], strict=False):
        delta = stamp - previous
        if step is None:
            step = delta
        elif delta != step:
            raise SeriesError(
                f"line {number}: irregular spacing, {_minutes(delta)} after the previous row where the "
                f"series steps every {_minutes(step)} (fill gaps with zero counts)"
            )
    return parsed


def _minutes(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    return f"{minutes:g} minutes"


def detect_series(
    rows: Iterable[Mapping[str, str | None]],
    *,
    sensitivity: float = 1.0,
    config: DetectorConfig | None = None,
) -> list[dict[str, str | int | float]]:
    """Run the detector over a series and return ``{"timestamp", "alert", "score"}`` for every row.
    ``config`` (the product's default unless given; benchmarks try others) takes the series' own bucket
    size and ``sensitivity``."""
    return _detect(parse_series(rows), sensitivity=sensitivity, config=config)


def _detect(
    parsed: list[tuple[str, datetime, float]], *, sensitivity: float, config: DetectorConfig | None = None
) -> list[dict[str, str | int | float]]:
    bucket = 15.0
    if len(parsed) > 1:
        bucket = (parsed[1][1] - parsed[0][1]).total_seconds() / 60
    base = config if config is not None else DetectorConfig()
    detector = Detector(config=replace(base, bucket_minutes=bucket, sensitivity=sensitivity))
    out: list[dict[str, str | int | float]] = []
    for raw_stamp, stamp, value in parsed:
        decision = detector.update(stamp, value)
        out.append({"timestamp": raw_stamp, "alert": int(decision.alert), "score": decision.score})
    return out


def detect_csv(in_path: Path, out_path: Path | SupportsWrite[str], *, sensitivity: float = 1.0) -> int:
    """Read a ``timestamp,value`` CSV (UTF-8, with or without a byte-order mark), write
    ``timestamp,alert,score`` to a file or an open text stream (stdout); returns the number of alerts.
    Writing is left to fail with OSError."""
    try:
        raw = in_path.read_bytes()
    except OSError as exc:
        raise SeriesError(f"cannot read the file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SeriesError(f"line {line}: not UTF-8 text (byte {raw[exc.start]:#04x})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if reader.fieldnames is None:
            raise SeriesError("empty file (need a header timestamp,value and rows)")
        fields = [f.strip() for f in reader.fieldnames]
        for column in REQUIRED_COLUMNS:
            if column not in fields:
                raise SeriesError(f"missing column {column!r} (header is {','.join(fields)})")
        reader.fieldnames = fields
        # DictReader skips blank lines: number each row by the line it ends on, not by its position.
        parsed = parse_numbered_series((reader.line_num, row) for row in reader)
    except csv.Error as exc:
        raise SeriesError(f"line {reader.line_num}: malformed CSV ({exc})") from None
    results = _detect(parsed, sensitivity=sensitivity)
    if isinstance(out_path, Path):
        with out_path.open("w", newline="", encoding="utf-8") as out:
            _write_alerts(out, results)
    else:
        _write_alerts(out_path, results)
    return sum(int(r["alert"]) for r in results)


def _write_alerts(out: SupportsWrite[str], results: list[dict[str, str | int | float]]) -> None:
    writer = csv.DictWriter(out, fieldnames=["timestamp", "alert", "score"])
    writer.writeheader()
    writer.writerows(results)
