"""Readers for the development data in `../shared/data` (see its SOURCES.md). Paths are arguments: the data
is never copied into the repository."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

AIRLINE_REASONS = {
    "Customer Service Issue": "customer-service",
    "Late Flight": "late-flight",
    "Cancelled Flight": "cancelled-flight",
    "Lost Luggage": "lost-luggage",
    "Damaged Luggage": "damaged-luggage",
    "Bad Flight": "bad-flight",
    "Flight Booking Problems": "booking-problems",
    "Flight Attendant Complaints": "flight-attendants",
    "longlines": "long-lines",
}


@dataclass
class Labelled:
    texts: list[str] = field(default_factory=list)
    labels: list[object] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # source of each row (file, video, domain)

    def add(self, text: str, label: object, group: str) -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.groups.append(group)

    def __len__(self) -> int:
        return len(self.texts)


class DataMissing(FileNotFoundError):
    """The development data directory or one of its files is absent."""


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise DataMissing(f"development data file not found: {path}")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def complaints(data_dir: Path) -> Labelled:
    out = Labelled()
    for row in _rows(data_dir / "complaints" / "train.csv"):
        out.add(row["text"], int(row["complaint"]), row.get("domain", ""))
    return out


def sentiment_tweeteval(data_dir: Path) -> Labelled:
    out = Labelled()
    for row in _rows(data_dir / "sentiment" / "tweeteval_val.csv"):
        out.add(row["text"], row["sentiment"], "tweeteval")
    return out


def sentiment_sanders(data_dir: Path) -> Labelled:
    out = Labelled()
    for row in _rows(data_dir / "sentiment" / "sanders_tech.csv"):
        out.add(row["text"], row["sentiment"], "sanders")
    return out


def sentiment_airline(data_dir: Path) -> Labelled:
    out = Labelled()
    for row in _rows(data_dir / "airline" / "tweets.csv"):
        out.add(row["text"], row["airline_sentiment"], "airline")
    return out


def spam(data_dir: Path) -> Labelled:
    out = Labelled()
    files = sorted((data_dir / "spam").glob("*.csv"))
    if not files:
        raise DataMissing(f"no spam files in {data_dir / 'spam'}")
    for path in files:
        for row in _rows(path):
            out.add(row["CONTENT"], int(row["CLASS"]), path.stem)
    return out


def airline_reasons(data_dir: Path) -> Labelled:
    """Negative airline tweets with one of the nine reasons ("Can't Tell" and blanks left out)."""
    out = Labelled()
    for row in _rows(data_dir / "airline" / "tweets.csv"):
        reason = AIRLINE_REASONS.get(row["negativereason"])
        if reason:
            out.add(row["text"], reason, row["tweet_id"])
    return out
