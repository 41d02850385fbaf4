"""A feed document (RSS 0.9x, 1.0, 2.0 or Atom, through feedparser) -> MentionData per entry.

Each entry is a mention: its text is the title and the summary or content as plain text; its id is the
entry's guid/id, else its link, else a hash of its text. Entries without a date (RSS 0.91 has none) take
the time they were first seen. An entry that cannot become a mention is rejected with its reason; when the
document itself is malformed, the entries read before the fault are kept and the last one is quarantined
as possibly cut short.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from servicepulse.mentions.services import MentionData
from servicepulse.sources.registry import PayloadError, Rejected
from servicepulse.sources.text import html_to_text

# feedparser flags these but the document is still read correctly.
_BENIGN = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


@dataclass
class FeedBatch:
    mentions: list[MentionData] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    malformed: str = ""  # why the document is not well-formed, when it is not
    title: str = ""


def parse_feed(content: bytes, *, base_url: str = "", now: datetime | None = None) -> FeedBatch:
    """Every entry of the document. Raises PayloadError when nothing in it is a feed."""
    now = now or datetime.now(UTC)
    # feedparser's own HTML passes (sanitising, resolving relative links in entries' markup) run its sgmllib
    # parser, which takes time quadratic in malformed markup: an entry of "<!--" repeated (160 kB) took 7 s, a
    # 10 MB feed hours of the worker. Nothing needs them: entries' markup becomes plain text through nh3
    # (`html_to_text`), and the entries' own links are resolved either way.
    parsed = feedparser.parse(
        content,
        response_headers={"content-location": base_url} if base_url else None,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    exception = parsed.get("bozo_exception") if parsed.get("bozo") else None
    malformed = "" if exception is None or isinstance(exception, _BENIGN) else _describe(exception)
    entries = list(parsed.entries)
    if not parsed.get("version") and not entries:
        raise PayloadError(f"not an RSS or Atom feed: {malformed or 'no feed elements found'}")
    batch = FeedBatch(malformed=malformed, title=str(parsed.feed.get("title", "")))
    for position, entry in enumerate(entries, start=1):
        raw = _raw(entry)
        if malformed and position == len(entries):
            batch.rejected.append(
                Rejected(
                    raw=raw,
                    reason=f"feed is malformed ({malformed}); last entry may be cut short",
                    position=f"entry {position}",
                )
            )
            continue
        try:
            batch.mentions.append(parse_entry(entry, now=now))
        except PayloadError as exc:
            batch.rejected.append(Rejected(raw=raw, reason=str(exc), position=f"entry {position}"))
    return batch


def parse_entry(entry: Any, *, now: datetime) -> MentionData:
    title = html_to_text(str(entry.get("title", "") or ""))
    body = ""
    if entry.get("content"):
        body = html_to_text(str(entry.content[0].get("value", "")))
    elif entry.get("summary"):
        body = html_to_text(str(entry.summary))
    if body.startswith(title):
        title = ""  # many feeds repeat the title as the summary's start
    text = "\n\n".join(part for part in (title, body) if part)
    if not text.strip():
        raise PayloadError("entry has neither a title nor any text")
    link = str(entry.get("link", "") or "")
    external_id = str(entry.get("id", "") or "") or link
    if not external_id:
        external_id = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    created_at = now
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            created_at = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            break
    author = str(entry.get("author", "") or "")
    try:
        return MentionData(
            external_id=external_id[:255],
            text=text,
            created_at=created_at,
            author=author,
            url=link if link.startswith(("http://", "https://")) else "",
            raw=json.loads(_raw(entry)),
        )
    except ValueError as exc:
        raise PayloadError(str(exc)) from None


def _raw(entry: Any) -> str:
    """A JSON copy of what feedparser read from the entry (time tuples as ISO strings)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items() if not k.endswith("_parsed")}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, str | int | float | bool) or value is None:
            return value
        return str(value)

    return json.dumps(plain(dict(entry)), sort_keys=True, ensure_ascii=False)


def _describe(exception: Exception) -> str:
    message = getattr(exception, "getMessage", None)
    text = message() if callable(message) else str(exception)
    line = getattr(exception, "getLineNumber", None)
    return f"{text} at line {line()}" if callable(line) else text
