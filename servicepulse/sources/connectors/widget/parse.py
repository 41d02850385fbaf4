"""A widget report (the JSON body the embed script POSTs) -> a checked report, or ParseError with a reason.

Body: `{"service": "<catalogue id>", "problem": "down|slow|login|other", "comment": "<optional sentence>",
"token": "<signed reporter token>", "website": ""}` — `website` is a honeypot field hidden from people.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from servicepulse.mentions.services import MentionData
from servicepulse.sources.registry import PayloadError

# The codes a report stores, and their English labels kept with it (`raw.problem_label`, and the mention's text)
# whatever language the form spoke; the form shows `wording`'s labels for the same codes.
PROBLEM_TYPES: dict[str, str] = {
    "down": "Not working",
    "slow": "Slow",
    "login": "Can't sign in",
    "other": "Something else",
}
MAX_COMMENT = 500


class ParseError(PayloadError):
    """A refused report: the English reason, and `code` and `params` for the form's words in its own
    language (`wording.reason`)."""

    def __init__(self, reason: str, *, code: str, **params: Any) -> None:
        super().__init__(reason)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Report:
    service_id: str
    service_name: str
    problem: str
    comment: str
    token: str
    honeypot: str

    @property
    def text(self) -> str:
        sentence = f": {self.comment}" if self.comment else ""
        return f"{self.service_name} — {PROBLEM_TYPES[self.problem].lower()}{sentence}"


def _kept(ch: str) -> bool:
    # Only control characters (NUL included, which PostgreSQL refuses) and lone surrogates (which cannot be
    # stored as UTF-8) go. Format characters stay: the zero-width joiners that Persian, Hindi and emoji
    # sequences are written with, and the marks right-to-left text needs; so do characters newer than this
    # Python's Unicode tables (recent emoji), which `str.isprintable` would have dropped.
    return ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cs")


def _clean_comment(comment: str) -> str:
    """The comment without control characters, its whitespace collapsed to single spaces."""
    return " ".join("".join(ch for ch in comment if _kept(ch)).split())


def parse_report(body: Any, *, services: dict[str, str]) -> Report:
    """Check a decoded body against the catalogue (`services`: id -> name)."""
    if not isinstance(body, dict):
        raise ParseError("the report must be a JSON object", code="not_object")
    service = body.get("service")
    if not isinstance(service, str) or not service:
        raise ParseError("choose a service", code="no_service")
    if service not in services:
        raise ParseError(f"unknown service {service!r}", code="unknown_service", service=repr(service))
    problem = body.get("problem")
    if not isinstance(problem, str) or problem not in PROBLEM_TYPES:
        choices = ", ".join(PROBLEM_TYPES)
        raise ParseError(f"problem must be one of {choices}", code="bad_problem", choices=choices)
    comment = body.get("comment", "")
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise ParseError("comment must be text", code="bad_comment")
    comment = _clean_comment(comment)
    if len(comment) > MAX_COMMENT:
        raise ParseError(
            f"comment is longer than {MAX_COMMENT} characters", code="long_comment", limit=MAX_COMMENT
        )
    token = body.get("token", "")
    honeypot = body.get("website", "")
    return Report(
        service_id=service,
        service_name=services[service],
        problem=str(problem),
        comment=comment,
        token=token if isinstance(token, str) else "",
        honeypot=honeypot if isinstance(honeypot, str) else "x",
    )


def report_to_mention(
    report: Report, *, external_id: str, reporter: str, author: str, created_at: datetime, page: str
) -> MentionData:
    """The mention a counted report becomes; `raw.service_id` carries the reporter's own tagging."""
    return MentionData(
        external_id=external_id,
        text=report.text,
        created_at=created_at,
        author=author,
        author_id=reporter,
        raw={
            "service_id": report.service_id,
            "problem": report.problem,
            "problem_label": PROBLEM_TYPES[report.problem],
            "comment": report.comment,
            "page": page,
            "channel": "widget",
        },
    )
