"""Why an incident was raised: the words that rose against the baseline, a few representative posts, the
people affected, when it started and how fast it grew. Pure functions over `AnalysedPost` records."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from django.utils import timezone

from servicepulse.analysis.selectors import AnalysedPost
from servicepulse.core.words import STOPWORDS_WELSH_SPANISH, is_cjk, words

_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "im",
        "i'm",
        "it's",
        "dont",
        "don't",
        "cant",
        "can't",
        "isn't",
        "wont",
        "won't",
        "anyone",
        "anybody",
        "still",
        "again",
        "get",
        "got",
        "getting",
        "gets",
        "really",
        "today",
        "now",
        "just",
        "like",
        "also",
        "rt",
        "amp",
        "via",
    ]
)
Embedder = Callable[[Sequence[str]], Sequence[Sequence[float]]]


def tokens(text: str) -> list[str]:
    """The words of a post that can explain an incident, in any script (core.words), without links, stop
    words and numbers."""
    return [
        w
        for w in words(_LINK.sub(" ", text))
        if (len(w) > 2 or is_cjk(w))
        and w not in STOPWORDS
        and w not in STOPWORDS_WELSH_SPANISH
        and not w[0].isdigit()
    ]


def rising_terms(
    incident_texts: Sequence[str], baseline_texts: Sequence[str], *, limit: int = 8, min_count: int = 2
) -> list[dict[str, Any]]:
    """Terms used by more incident posts than baseline posts would predict, scored by a smoothed log
    ratio of document frequencies and shown with the ratio of rates."""
    inc = Counter(t for text in incident_texts for t in set(tokens(text)))
    base = Counter(t for text in baseline_texts for t in set(tokens(text)))
    n_inc, n_base = max(len(incident_texts), 1), max(len(baseline_texts), 1)
    scored = []
    for term, count in inc.items():
        if count < min_count:
            continue
        rate_inc = count / n_inc
        rate_base = (base.get(term, 0) + 0.5) / (n_base + 1)
        ratio = rate_inc / rate_base
        if ratio <= 1.5:
            continue
        # Weight by how many incident posts use it, so one odd word does not lead the list.
        scored.append((math.log(ratio) * math.sqrt(count), term, ratio, count))
    scored.sort(reverse=True)
    return [{"term": t, "ratio": round(r, 1), "posts": c} for _, t, r, c in scored[:limit]]


def _bag_of_words(texts: Sequence[str]) -> list[list[float]]:
    vocab: dict[str, int] = {}
    docs = [Counter(tokens(t)) for t in texts]
    for doc in docs:
        for term in doc:
            vocab.setdefault(term, len(vocab))
    vectors = []
    for doc in docs:
        vec = [0.0] * len(vocab)
        for term, count in doc.items():
            vec[vocab[term]] = float(count)
        vectors.append(vec)
    return vectors


def default_embedder() -> Embedder | None:
    """The analysis app's sentence encoder, or None where its libraries are not installed (bag of words is
    used then)."""
    try:
        # Imported here: the encoder brings numpy (and, when used, torch), which the rest of this module does not need.
        from servicepulse.analysis.ml.encoder import embed
    except ImportError:
        return None
    return cast(Embedder, embed)  # a numpy array of rows reads as a sequence of vectors


def _normalise(vec: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=False))


def representative_posts(
    texts: Sequence[str], *, k: int = 3, embedder: Embedder | None = None, seed_limit: int = 200
) -> list[str]:
    """Up to ``k`` posts that stand for the main groups of what people said: k-means (cosine, k-means++-like
    deterministic seeding) on sentence embeddings, then each cluster's most central post, biggest first."""
    unique = list(dict.fromkeys(t.strip() for t in texts if t.strip()))[:seed_limit]
    if len(unique) <= k:
        return unique
    raw: Sequence[Sequence[float]]
    try:
        raw = embedder(unique) if embedder is not None else _bag_of_words(unique)
    except Exception:  # a broken model must not stop the explanation; words still separate posts
        raw = _bag_of_words(unique)
    vectors = [_normalise(list(map(float, v))) for v in raw]
    # Seeding: the post most similar to all others, then repeatedly the one farthest from the chosen.
    centrality = [sum(_cos(v, w) for w in vectors) for v in vectors]
    chosen = [max(range(len(vectors)), key=lambda i: centrality[i])]
    while len(chosen) < k:
        chosen.append(
            min(range(len(vectors)), key=lambda i: max(_cos(vectors[i], vectors[c]) for c in chosen))
        )
    centres = [vectors[c] for c in chosen]
    labels = [0] * len(vectors)
    for _ in range(10):
        labels = [max(range(k), key=lambda c: _cos(v, centres[c])) for v in vectors]
        for c in range(k):
            members = [vectors[i] for i, lab in enumerate(labels) if lab == c]
            if members:
                centres[c] = _normalise([sum(col) for col in zip(*members, strict=True)])
    groups = sorted(range(k), key=lambda c: -labels.count(c))
    picks = []
    for c in groups:
        indices = [i for i, lab in enumerate(labels) if lab == c]
        if indices:
            picks.append(unique[max(indices, key=lambda i: _cos(vectors[i], centres[c]))])
    return picks


def growth(posts: Sequence[AnalysedPost], *, started_at: datetime) -> dict[str, Any]:
    """Complaints in the first hour after the onset and how long it took to reach ten people."""
    return complaints_growth(
        [(p.created_at, p.author_key) for p in posts if p.complaint], started_at=started_at
    )


def complaints_growth(complaints: Sequence[tuple[datetime, str]], *, started_at: datetime) -> dict[str, Any]:
    """`growth` of complaints given as (created at, author key)."""
    ordered = sorted(complaints, key=lambda c: c[0])
    first_hour = [at for at, _ in ordered if started_at <= at < started_at + timedelta(hours=1)]
    authors: set[str] = set()
    to_ten: float | None = None
    for at, author_key in ordered:
        authors.add(author_key)
        if len(authors) >= 10:
            to_ten = (at - started_at).total_seconds() / 60
            break
    text = f"{len(first_hour)} complaints in the first hour"
    if to_ten is not None:
        text += f"; ten people within {max(to_ten, 0):.0f} minutes"
    return {"first_hour": len(first_hour), "minutes_to_ten_people": to_ten, "text": text}


def _counts(*, complaints: int, service_name: str, people: int) -> str:
    return f"{complaints} complaints about {service_name} from {people} people"


# The counts `explain` opens its summary with (`_counts`), as stored.
_SUMMARY_COUNTS = re.compile(
    r"^(?P<complaints>\d+) complaints about (?P<service>.+?) from \d+ people(?= since )"
)


def summary_complaints(summary: str) -> int | None:
    """The complaints a summary `explain` wrote opens with; None for a summary that does not open with them."""
    match = _SUMMARY_COUNTS.match(summary)
    return int(match["complaints"]) if match else None


def summary_recounted(summary: str, *, complaints: int, people: int) -> str:
    """A summary `explain` wrote with its counts of complaints and people replaced by these (the incident's
    posts recounted since); a summary that does not open with them is returned as it is."""
    return _SUMMARY_COUNTS.sub(
        lambda m: _counts(complaints=complaints, service_name=m["service"], people=people), summary, count=1
    )


def usual_rate_words(per_hour: float) -> str:
    """A usual rate of complaints as people say it: "about 12 an hour", "about 1.5 an hour", "about one every 3
    hours", "about one every 2 days"; a quiet service's rate is not "about 0.0 an hour"."""
    if per_hour >= 9.5:
        return f"about {per_hour:.0f} an hour"
    if per_hour >= 1.05:
        return f"about {per_hour:.1f} an hour"
    if per_hour * 24 * 7 < 1:
        return "less than one a week"
    hours = round(1 / per_hour)
    if hours <= 1:
        return "about one an hour"
    if hours < 36:
        return f"about one every {hours} hours"
    return f"about one every {round(hours / 24)} days"


def explain(
    *,
    service_name: str,
    incident_posts: Sequence[AnalysedPost],
    baseline_posts: Sequence[AnalysedPost],
    started_at: datetime,
    expected_per_hour: float | None = None,
    embedder: Embedder | None = None,
) -> dict[str, Any]:
    """The explanation stored on an incident (JSON-able)."""
    complaints = [p for p in incident_posts if p.complaint]
    authors = sorted({p.author_key for p in complaints})
    terms = rising_terms([p.text for p in complaints], [p.text for p in baseline_posts])
    grow = growth(incident_posts, started_at=started_at)
    summary = (
        f"{_counts(complaints=len(complaints), service_name=service_name, people=len(authors))} "
        f"since {timezone.localtime(started_at):%H:%M}"
    )
    if expected_per_hour is not None:
        summary += f", where {usual_rate_words(expected_per_hour)} is usual for this time"
    if terms:
        summary += "; most mention " + ", ".join(f"“{t['term']}”" for t in terms[:3])
    return {
        "summary": summary + ".",
        "terms": terms,
        "representatives": representative_posts([p.text for p in complaints], embedder=embedder),
        "affected_authors": len(authors),
        "authors": [p.author or p.author_key for p in {p.author_key: p for p in complaints}.values()],
        "started_at": started_at.isoformat(),
        "growth": grow["text"],
        "first_hour": grow["first_hour"],
    }
