"""One JSON Lines line or CSV row -> MentionData, or ParseError with a reason a person can act on.

Fields: `id` (string, required), `text` (non-empty string, required), `created_at` (ISO 8601 with a UTC
offset, required; a naive time is ambiguous and rejected), optional `author`, `url`, `in_reply_to`, `lang`.

Everything a record could carry that the database would refuse at write time (a time outside the years
1-9999 once in UTC, a lone UTF-16 surrogate, NaN or Infinity, a value longer than its column) is refused
here, so the record is quarantined with its reason instead of failing the batch it was written with.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any, NoReturn

from servicepulse.core.http import safe_url
from servicepulse.mentions.services import MENTION_MAX_LENGTH, MentionData
from servicepulse.sources.registry import PayloadError

REQUIRED = ("id", "text", "created_at")
OPTIONAL = ("author", "url", "in_reply_to", "lang")
# The record's field -> the MentionData field (and Mention column) it fills.
COLUMN = {
    "id": "external_id",
    "author": "author",
    "url": "url",
    "in_reply_to": "in_reply_to",
    "lang": "language",
}
_SURROGATE = re.compile("[\ud800-\udfff]")


class ParseError(PayloadError):
    pass


def parse_timestamp(value: Any, *, field: str = "created_at") -> datetime:
    """`value` as an aware datetime in UTC; ParseError unless it is ISO 8601 with an offset, in range."""
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
    try:
        # 9999-12-31T23:59:59-05:00 is a valid time that no datetime (or database) can hold in UTC.
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ParseError(
            f"{field} {value!r} is out of range: in UTC it falls outside the years 1-9999"
        ) from None


def parse_record(record: Any, *, notes: list[str] | None = None) -> MentionData:
    """Validate one decoded record (a dict from JSON or CSV).

    What is kept but changed (a `url` that is not an http(s) link is dropped, the post kept) is described in
    `notes` when a list is given, for the importer to report.
    """
    if not isinstance(record, dict):
        raise ParseError(f"expected a JSON object, got {type(record).__name__}")
    for name in REQUIRED:
        if name not in record or record[name] is None:
            raise ParseError(f"missing required field {name!r}")
    surrogate_at = _find_surrogate(record)
    if surrogate_at is not None:
        raise ParseError(
            f"{surrogate_at} holds a lone UTF-16 surrogate escape (such as \\ud800), which is not a character"
        )
    external_id = record["id"]
    if not isinstance(external_id, str) or not external_id.strip():
        raise ParseError(f"id must be a non-empty string, got {type(external_id).__name__}")
    external_id = external_id.strip()
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
    if "url" in optional and not safe_url(optional["url"]):
        # A javascript: or data: link would be rendered as the post's "original" link: keep the post only.
        if notes is not None:
            notes.append(f"url {optional['url'][:100]!r} is not an http(s) link: the post is kept without it")
        del optional["url"]
    elif "url" in optional:
        optional["url"] = safe_url(optional["url"])
    for name, value in [("id", external_id), *optional.items()]:
        limit = MENTION_MAX_LENGTH[COLUMN[name]]
        length = len(value.replace("\x00", ""))  # NUL is dropped before storing
        if length > limit:
            raise ParseError(f"{name} is {length} characters long, longer than the {limit} it can be")
    try:
        return MentionData(
            external_id=external_id,
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


def parse_json_line(line: str, *, notes: list[str] | None = None) -> MentionData:
    try:
        record = json.loads(line, parse_constant=_refuse_constant, parse_float=_finite_float)
    except ParseError:
        raise
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except ValueError as exc:  # an integer of more digits than Python converts (4300)
        raise ParseError(f"not valid JSON ({exc})") from None
    except RecursionError:
        raise ParseError("not valid JSON (nested too deeply)") from None
    return parse_record(record, notes=notes)


def _refuse_constant(name: str) -> NoReturn:
    # Python reads NaN and Infinity, but they are not JSON: no database stores them in a JSON column.
    raise ParseError(f"not valid JSON ({name} is not a JSON number)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ParseError(f"not valid JSON (the number {text[:40]} is too large to store)")
    return value


def _find_surrogate(record: dict[str, Any]) -> str | None:
    """Where in `record` (nested too) a string holds a lone surrogate, which UTF-8 cannot encode: a field
    name like 'text' or 'meta.tags[1]'; None when there is none."""
    stack: list[tuple[str, Any]] = [("", record)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return path or "the record"
        elif isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and _SURROGATE.search(key):
                    return f"a field name in {path or 'the record'}"
                stack.append((where, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return None
