"""One JSON Lines line or CSV row -> MentionData, or ParseError with a reason a person can act on.

Fields: `id` (string, required), `text` (non-empty string, required), `created_at` (ISO 8601 with a UTC
offset, required; a naive time is ambiguous and rejected), optional `author`, `url`, `in_reply_to`, `lang`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from servicepulse.mentions.services import MentionData
from servicepulse.sources.registry import PayloadError

REQUIRED = ("id", "text", "created_at")
OPTIONAL = ("author", "url", "in_reply_to", "lang")


class ParseError(PayloadError):
    pass


def parse_timestamp(value: Any, *, field: str = "created_at") -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise ParseError(f"{field} must be an ISO 8601 string with a UTC offset, got {type(value).__name__}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ParseError(f"{field} is not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ParseError(f"{field} {value!r} has no UTC offset, so the moment is ambiguous (add Z or +01:00)")
    return parsed


def parse_record(record: Any) -> MentionData:
    """Validate one decoded record (a dict from JSON or CSV)."""
    if not isinstance(record, dict):
        raise ParseError(f"expected a JSON object, got {type(record).__name__}")
    for name in REQUIRED:
        if name not in record or record[name] is None:
            raise ParseError(f"missing required field {name!r}")
    external_id = record["id"]
    if not isinstance(external_id, str) or not external_id.strip():
        raise ParseError(f"id must be a non-empty string, got {type(external_id).__name__}")
    text = record["text"]
    if not isinstance(text, str):
        raise ParseError(f"text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("text is empty")
    created_at = parse_timestamp(record["created_at"])
    optional: dict[str, str] = {}
    for name in OPTIONAL:
        value = record.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise ParseError(f"{name} must be a string, got {type(value).__name__}")
        optional[name] = value
    try:
        return MentionData(
            external_id=external_id.strip(),
            text=text,
            created_at=created_at,
            author=optional.get("author", ""),
            url=optional.get("url", ""),
            in_reply_to=optional.get("in_reply_to", ""),
            language=optional.get("lang", ""),
            raw=record,
        )
    except ValueError as exc:  # e.g. a text of nothing but NUL characters
        raise ParseError(str(exc)) from None


def parse_json_line(line: str) -> MentionData:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    return parse_record(record)
