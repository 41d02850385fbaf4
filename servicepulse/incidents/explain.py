"""Why an incident was raised: the words that rose against the baseline, a few representative posts, the
people affected, when it started and how fast it grew. Pure functions over `AnalysedPost` records."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.utils import timezone

from servicepulse.analysis.selectors import AnalysedPost, only_agrees
from servicepulse.core.words import NOT_WORDS, content_words, words

# `shared_term`: a word is unusual when at most this share of the organisation's usual complaints use it
# (judged on at least SHARED_TERM_MIN_BASELINE of them), and this share of the service's own.
SHARED_TERM_MAX_SHARE = 0.05
SHARED_TERM_MAX_SERVICE_SHARE = 0.2
SHARED_TERM_MIN_BASELINE = 20
Embedder = Callable[[Sequence[str]], Sequence[Sequence[float]]]
# Where analysed posts come from: the analysis app by default; backfills and replays may pass their own.
PostReader = Callable[..., Iterable[AnalysedPost]]


# Every complaint of an incident says its service is down: as a rising term it would say nothing.
ALWAYS_RISES = frozenset({"down"})


def _words(text: str) -> list[str]:
    """The words of a post that can explain an incident: core.words.content_words, without ALWAYS_RISES."""
    return content_words(text, ignore=ALWAYS_RISES)


def said_words(text: str) -> set[str]:
    """Every word of a post a stored explanation's term may be: its `_words`, and its words as written (an
    explanation written before a word joined the stop words may list it)."""
    return set(_words(text)) | set(words(NOT_WORDS.sub(" ", text)))


def rising_terms(
    incident_texts: Sequence[str], baseline_texts: Sequence[str], *, limit: int = 8, min_count: int = 2
) -> list[dict[str, Any]]:
    """Terms used by more incident posts than baseline posts would predict, scored by a smoothed log
    ratio of document frequencies and shown with the ratio of rates."""
    inc = Counter(t for text in incident_texts for t in set(_words(text)))
    base = Counter(t for text in baseline_texts for t in set(_words(text)))
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


@dataclass(frozen=True)
class UsualWords:
    """How many of the usual complaints use each word (`_words`): over every service, and per service."""

    complaints: int = 0
    words: Counter[str] = field(default_factory=Counter)
    services: dict[str, tuple[int, Counter[str]]] = field(default_factory=dict)


def usual_words(complaints: Iterable[tuple[Sequence[str], str]]) -> UsualWords:
    """`UsualWords` of complaints given as (their service ids, text)."""
    total, everywhere = 0, Counter[str]()
    per_service: dict[str, tuple[int, Counter[str]]] = {}
    for service_ids, text in complaints:
        terms = set(_words(text))
        total += 1
        everywhere.update(terms)
        for service_id in service_ids:
            count, words = per_service.get(service_id, (0, Counter()))
            words.update(terms)
            per_service[service_id] = (count + 1, words)
    return UsualWords(complaints=total, words=everywhere, services=per_service)


def shared_term(
    complaints: Sequence[tuple[str, str]],
    *,
    usual: UsualWords,
    service_id: str,
    min_authors: int,
    ignore: Collection[str] = (),
) -> tuple[tuple[str, ...], int] | None:
    """The unusual words the most people among ``complaints`` ((author key, text) pairs about one service,
    oldest first) used, with how many people used them: a building, a room, an error message; not "slow",
    nor the service's own names (``ignore``). Unusual means at least ``min_authors`` different people wrote
    it, while at most one in twenty of the organisation's usual complaints do, and at most one in five of the
    service's own, unless fewer than ``min_authors`` of those did (one earlier complaint naming a building
    does not make it usual: with a handful of complaints, any word of one is a fifth of them). Words the same
    people all wrote come together, in the order the first of them wrote them ("hopkins", "building"; at most
    three). None when no word qualifies, or with too few usual complaints to tell a rare word by (a new
    installation)."""
    if usual.complaints < SHARED_TERM_MIN_BASELINE:
        return None
    people: dict[str, set[str]] = {}
    first_text: dict[str, list[str]] = {}
    for author, text in complaints:
        said = _words(text)
        for term in said:
            people.setdefault(term, set()).add(author)
            first_text.setdefault(term, said)
    here_total, here = usual.services.get(service_id, (0, Counter()))
    candidates = []
    for term, authors in people.items():
        if len(authors) < min_authors or term in ignore:
            continue
        share = (usual.words.get(term, 0) + 0.5) / (usual.complaints + 1)
        if share > SHARED_TERM_MAX_SHARE:
            continue
        used_here = here.get(term, 0)
        if used_here >= min_authors and (used_here + 0.5) / (here_total + 1) > SHARED_TERM_MAX_SERVICE_SHARE:
            continue
        candidates.append((-len(authors), share, term))
    if not candidates:
        return None
    # Most people first; among equals the rarer word, then alphabetical order (stable).
    people_count, _, term = min(candidates)
    together = {t for _, _, t in candidates if people[t] == people[term]}
    said = first_text[term]
    ordered = sorted(together, key=lambda t: (said.index(t) if t in said else len(said), t))
    return tuple(ordered[:3]), -people_count


def shared_words(found: tuple[tuple[str, ...], int]) -> str:
    """`shared_term`'s finding in words: 3 people wrote “hopkins” and “building”."""
    terms, count = found
    quoted = [f"“{t}”" for t in terms]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    return f"{count} people wrote {listed}"


def tells_of_a_problem(post: AnalysedPost) -> bool:
    """What corroboration reads in a possible problem's window: the complaints, and the negative posts the
    complaint classifier let through ("hopkins building = no wifi zone today apparently"). Counts, and what
    is usual, come from the complaints alone."""
    return post.complaint or post.sentiment < 0


def service_words(name: str, aliases: Sequence[str]) -> set[str]:
    """The words of a service's own names: every complaint about it uses them, so they tell nothing."""
    return {t for text in [name, *aliases] for t in _words(text)}


def usual_words_reader(read: PostReader, *, baseline: timedelta) -> Callable[[datetime], UsualWords]:
    """`UsualWords` of the complaints over ``baseline`` before a day (a UTC midnight), read once per day."""
    memo: dict[datetime, UsualWords] = {}

    def load(day: datetime) -> UsualWords:
        if day not in memo:
            memo[day] = usual_words(
                (p.service_ids, p.text) for p in read(since=day - baseline, until=day) if p.complaint
            )
        return memo[day]

    return load


def corroborator(
    *,
    service_id: str,
    own_words: Collection[str],
    end: datetime,
    size: timedelta,
    min_authors: int,
    read: PostReader,
    usual: Callable[[datetime], UsualWords],
) -> Callable[[int], str]:
    """The detector's ``corroborate`` for the bucket ending at ``end``: whether at least ``min_authors`` people
    telling of a problem with the service in the last ``width`` buckets (`tells_of_a_problem`) name the same
    unusual thing (`shared_term`), judged against the usual complaints before that day (``usual``, e.g. a
    `usual_words_reader`). Only posts about this service first are read: one whose best match is another
    service ("Student e-mail — can't sign in", also tagged single sign-on) tells what is wrong with that one,
    and its words ("student", "e-mail") would confirm this one's rise on the other's outage."""

    def corroborate(width: int) -> str:
        since = end - size * width
        posts = [
            (p.author_key, p.text)
            for p in read(since=since, until=end, service_ids=[service_id])
            if tells_of_a_problem(p) and p.service_ids[:1] == (service_id,)
        ]
        if len({author for author, _ in posts}) < min_authors:
            return ""
        day = since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        found = shared_term(
            posts, usual=usual(day), service_id=service_id, min_authors=min_authors, ignore=own_words
        )
        return shared_words(found) if found else ""

    return corroborate


def _bag_of_words(texts: Sequence[str]) -> list[list[float]]:
    vocab: dict[str, int] = {}
    docs = [Counter(_words(t)) for t in texts]
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


# A representative post says what is wrong: one with at least this many words of its own (`_words`) is
# preferred, where its group has one ("omg I thought it was just me" has none, "moodle 502 on upload" three).
REPRESENTATIVE_MIN_WORDS = 3


def representative_posts(
    texts: Sequence[str], *, k: int = 3, embedder: Embedder | None = None, seed_limit: int = 200
) -> list[str]:
    """Up to ``k`` posts that stand for the main groups of what people said, biggest group first: k-means
    (cosine) on sentence embeddings, then each group's medoid (the post most like the rest of its group)
    among its posts with the most to say (`REPRESENTATIVE_MIN_WORDS`), then the groups' next most central
    posts while fewer than ``k``. Posts without a word of their own ("Literally same 😑") are left out, and so
    is a group of one post: it represents no one but itself ("tried it on a different browser and it worked"
    among complaints of an outage).
    Deterministic: seeded from the post most like all others, then each time the post that is both like many
    others and unlike the seeds so far (farthest-first seeding alone picked the outliers)."""
    unique = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
    content = {text: len(set(_words(text))) for text in unique}
    unique = [t for t in unique if content[t]][:seed_limit]
    if len(unique) <= k:
        return sorted(unique, key=lambda t: -content[t])
    raw: Sequence[Sequence[float]]
    try:
        raw = embedder(unique) if embedder is not None else _bag_of_words(unique)
    except Exception:  # a broken model must not stop the explanation; words still separate posts
        raw = _bag_of_words(unique)
    vectors = [_normalise(list(map(float, v))) for v in raw]
    n = len(vectors)
    similar = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            similar[i][j] = similar[j][i] = _cos(vectors[i], vectors[j])
    density = [sum(row) / n for row in similar]
    chosen = [max(range(n), key=lambda i: density[i])]
    while len(chosen) < k:
        chosen.append(
            max(
                (i for i in range(n) if i not in chosen),
                key=lambda i: density[i] * (1 - max(similar[i][c] for c in chosen)),
            )
        )
    centres = [vectors[c] for c in chosen]
    labels = [0] * n
    for _ in range(10):
        labels = [max(range(k), key=lambda c: _cos(v, centres[c])) for v in vectors]
        for c in range(k):
            members = [vectors[i] for i, lab in enumerate(labels) if lab == c]
            if members:
                centres[c] = _normalise([sum(col) for col in zip(*members, strict=True)])
    groups = [[i for i in range(n) if labels[i] == c] for c in range(k)]
    groups = sorted((g for g in groups if len(g) > 1), key=lambda g: (-len(g), g[0]))
    ranked = []
    for group in groups:
        enough = min(REPRESENTATIVE_MIN_WORDS, max(content[unique[i]] for i in group))
        ranked.append(
            sorted(
                group,
                key=lambda i: (
                    content[unique[i]] < enough,
                    -sum(similar[i][j] for j in group),
                    -content[unique[i]],
                    i,
                ),
            )
        )
    # Each group's medoid, biggest group first; then, while fewer than k, each group's next most central post
    # (four people wording one outage differently are k-means' groups of 2, 1 and 1).
    picks = [unique[members[rank]] for rank in range(k) for members in ranked if rank < len(members)]
    return picks[:k]


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
        # Agreeing replies count as their authors' complaints, but say nothing of what is wrong.
        "representatives": representative_posts(
            [p.text for p in complaints if not only_agrees(p.text)], embedder=embedder
        ),
        "affected_authors": len(authors),
        "authors": [p.author or p.author_key for p in {p.author_key: p for p in complaints}.values()],
        "started_at": started_at.isoformat(),
        "growth": grow["text"],
        "first_hour": grow["first_hour"],
    }
