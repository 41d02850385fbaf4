"""Batch detection over a regular series of counts: what `servicepulse detect` and the NAB benchmark run.

Input rows carry ``timestamp`` (ISO 8601; a time without an offset is taken as UTC) and ``value`` (a
non-negative count), in time order, one per bucket with no gaps. Output rows carry the original
``timestamp``, ``alert`` (1 where the detector confirms an incident, i.e. where an alert would be sent)
and ``score`` (the detector's evidence, -log10 of a tail probability). The detector is the product's,
with its one fixed configuration; only the bucket size is read from the series.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from servicepulse.incidents.detection import Detector, DetectorConfig

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
    parsed: list[tuple[str, datetime, float]] = []
    step: timedelta | None = None
    for number, row in enumerate(rows, start=2):
        missing = [c for c in REQUIRED_COLUMNS if c not in row]
        if missing:
            raise SeriesError(f"missing column {missing[0]!r} (need columns: timestamp,value)")
        raw_stamp = row["timestamp"]
        if raw_stamp is None or not raw_stamp.strip():
            raise SeriesError(f"line {number}: empty timestamp")
        stamp = _parse_timestamp(raw_stamp, number)
        value = _parse_value(row["value"], number)
        if parsed:
            previous = parsed[-1][1]
            delta = stamp - previous
            if delta == timedelta(0):
                raise SeriesError(f"line {number}: duplicate timestamp {raw_stamp!r}")
            if delta < timedelta(0):
                raise SeriesError(
                    f"line {number}: timestamp {raw_stamp!r} is earlier than the previous row's "
                    f"{parsed[-1][0]!r} (rows must be sorted by time)"
                )
            if step is None:
                step = delta
            elif delta != step:
                raise SeriesError(
                    f"line {number}: irregular spacing, {_minutes(delta)} after the previous row where the "
                    f"series steps every {_minutes(step)} (fill gaps with zero counts)"
                )
        parsed.append((raw_stamp, stamp, value))
    if not parsed:
        raise SeriesError("no data rows (need a header timestamp,value and at least one row)")
    return parsed


def _minutes(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    return f"{minutes:g} minutes"


def detect_series(
    rows: Iterable[Mapping[str, str | None]], *, sensitivity: float = 1.0
) -> list[dict[str, str | int | float]]:
    """Run the detector over a series and return ``{"timestamp", "alert", "score"}`` for every row."""
    parsed = parse_series(rows)
    bucket = 15.0
    if len(parsed) > 1:
        bucket = (parsed[1][1] - parsed[0][1]).total_seconds() / 60
    detector = Detector(config=replace(DetectorConfig(), bucket_minutes=bucket, sensitivity=sensitivity))
    out: list[dict[str, str | int | float]] = []
    for raw_stamp, stamp, value in parsed:
        decision = detector.update(stamp, value)
        out.append({"timestamp": raw_stamp, "alert": int(decision.alert), "score": decision.score})
    return out


def detect_csv(in_path: Path, out_path: Path, *, sensitivity: float = 1.0) -> int:
    """Read a ``timestamp,value`` CSV, write ``timestamp,alert,score``; returns the number of alerts."""
    try:
        handle = in_path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise SeriesError(f"cannot read the file: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise SeriesError("empty file (need a header timestamp,value and rows)")
        fields = [f.strip() for f in reader.fieldnames]
        for column in REQUIRED_COLUMNS:
            if column not in fields:
                raise SeriesError(f"missing column {column!r} (header is {','.join(fields)})")
        reader.fieldnames = fields
        try:
            results = detect_series(reader, sensitivity=sensitivity)
        except csv.Error as exc:
            raise SeriesError(f"line {reader.line_num}: malformed CSV ({exc})") from None
    with out_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["timestamp", "alert", "score"])
        writer.writeheader()
        writer.writerows(results)
    return sum(int(r["alert"]) for r in results)
