"""The spam layers for comments and linkbacks, cheapest first.

1. honeypot and minimum fill time (forms only) — discard, nothing stored;
2. rate limit per address (Django cache) — refuse, nothing stored;
3. the blocklist — stored as spam;
4. the understanding pipeline's spam classifier (`servicepulse.analysis.ml`) when it is installed — spam above
   the threshold;
5. Akismet, only when SERVICEPULSE_AKISMET_KEY is configured;
then WordPress's hold rules (links, moderation words, first-time commenter) decide pending or approved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from servicepulse.blog.conf import akismet_enabled, blog_setting
from servicepulse.blog.models import WordListEntry, WordListKind
from servicepulse.core.ratelimit import rate_limit_hit

logger = logging.getLogger(__name__)


@dataclass
class Candidate:
    """A comment or linkback about to be judged."""

    text: str
    author_name: str = ""
    author_email: str = ""
    author_url: str = ""
    ip_address: str | None = None
    user_agent: str = ""
    kind: str = "comment"
    permalink: str = ""


@dataclass
class Verdict:
    spam: bool = False
    reasons: list[str] = field(default_factory=list)
    score: float | None = None


def rate_limit_retry_after(*, ip_address: str | None, scope: str = "comment") -> int | None:
    """Count one submission from `ip_address`; None while it is within the blog's limit for the window, else
    the seconds until the window ends and it may send again."""
    limit = int(blog_setting("SERVICEPULSE_BLOG_RATE_LIMIT"))
    if not ip_address or limit <= 0:
        return None
    window = int(blog_setting("SERVICEPULSE_BLOG_RATE_WINDOW_SECONDS"))
    return rate_limit_hit(scope=f"blog-{scope}", key=ip_address, limit=limit, per=window)


def rate_limited(*, ip_address: str | None, scope: str = "comment") -> bool:
    """Count one submission from `ip_address`; True when it is over the blog's limit for the window."""
    return rate_limit_retry_after(ip_address=ip_address, scope=scope) is not None


def _fields(candidate: Candidate) -> list[str]:
    return [
        candidate.author_name,
        candidate.author_email,
        candidate.author_url,
        candidate.text,
        candidate.ip_address or "",
        candidate.user_agent,
    ]


def word_list_match(*, kind: WordListKind, candidate: Candidate) -> str | None:
    """The first term of the list found (case-insensitively) in any field, as WordPress matches them."""
    haystacks = [value.lower() for value in _fields(candidate) if value]
    for term in WordListEntry.objects.filter(kind=kind).values_list("term", flat=True):
        needle = term.strip().lower()
        if needle and any(needle in haystack for haystack in haystacks):
            return term
    return None


def classifier_spam_probability(text: str) -> float | None:
    """P(spam) from the understanding pipeline's classifier, or None while its model is not installed."""
    try:
        # Imported here: the pipeline loads numpy and the encoder, which comment pages do not otherwise need.
        from servicepulse.analysis.ml import analyze_texts

        results = analyze_texts([text])
    except Exception:  # a missing model artifact must not stop comments; the other layers still work
        logger.exception("spam classifier unavailable")
        return None
    return float(results[0].spam_score) if results else None


# The httpx client the Akismet library uses: None lets it make its own. Tests set a factory whose client has
# an httpx.MockTransport answering as Akismet's documented API does (the library's recommended way to test).
AKISMET_HTTP_CLIENT: Callable[[], Any] | None = None


def akismet_client() -> Any:
    import akismet

    return akismet.SyncClient.validated_client(
        config=akismet.Config(key=str(blog_setting("SERVICEPULSE_AKISMET_KEY")), url=settings.BASE_URL),
        http_client=AKISMET_HTTP_CLIENT() if AKISMET_HTTP_CLIENT is not None else None,
    )


def _akismet_arguments(candidate: Candidate) -> dict[str, Any]:
    return {
        "user_ip": candidate.ip_address or "127.0.0.1",
        "user_agent": candidate.user_agent,
        "permalink": candidate.permalink,
        "comment_type": "comment" if candidate.kind == "comment" else candidate.kind,
        "comment_author": candidate.author_name,
        "comment_author_email": candidate.author_email,
        "comment_author_url": candidate.author_url,
        "comment_content": candidate.text,
    }


def akismet_says_spam(candidate: Candidate) -> bool | None:
    if not akismet_enabled():
        return None
    try:
        return bool(akismet_client().comment_check(**_akismet_arguments(candidate)))
    except Exception:  # Akismet down: fall back on our own layers rather than lose the comment
        logger.exception("Akismet check failed")
        return None


def akismet_report(candidate: Candidate, *, spam: bool) -> None:
    """Tell Akismet about a moderator's decision (only when configured)."""
    if not akismet_enabled():
        return
    try:
        client = akismet_client()
        (client.submit_spam if spam else client.submit_ham)(**_akismet_arguments(candidate))
    except Exception:
        logger.exception("Akismet report failed")


def spam_verdict(candidate: Candidate) -> Verdict:
    """Blocklist, classifier, Akismet: is it spam, and why."""
    verdict = Verdict()
    blocked = word_list_match(kind=WordListKind.BLOCKLIST, candidate=candidate)
    if blocked:
        verdict.spam = True
        verdict.reasons.append(f"blocklist: {blocked}")
        return verdict
    score = classifier_spam_probability(
        " ".join(part for part in [candidate.author_name, candidate.text] if part)
    )
    verdict.score = score
    if score is not None and score >= float(blog_setting("SERVICEPULSE_BLOG_SPAM_THRESHOLD")):
        verdict.spam = True
        verdict.reasons.append(f"classifier: spam probability {score:.2f}")
        return verdict
    if akismet_says_spam(candidate):
        verdict.spam = True
        verdict.reasons.append("akismet")
    return verdict
