"""Grouping a week of posts into a few topics: clusters of sentence embeddings, each named by the terms that
set it apart (class-based TF-IDF), its examples the most discussed posts, then the ones nearest its centre."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from servicepulse.core.words import content_words, is_cjk


@dataclass(frozen=True)
class Topic:
    indices: list[int]  # positions in the input, examples first
    terms: list[str]
    size: int

    @property
    def name(self) -> str:
        return ", ".join(self.terms[:3])


def _terms(text: str) -> list[str]:
    """A post's words (core.words.content_words, in any script) and adjacent pairs of them."""
    words = content_words(text)
    return words + [f"{a} {b}" for a, b in pairwise(words) if not (is_cjk(a) or is_cjk(b))]


def telling_terms(cluster_texts: Sequence[str], all_texts: Sequence[str], *, top: int = 5) -> list[str]:
    """Terms frequent in the cluster and rare elsewhere (class-based TF-IDF), bigrams preferred when as strong."""
    inside = Counter(t for text in cluster_texts for t in set(_terms(text)))
    docs = Counter(t for text in all_texts for t in set(_terms(text)))
    n = len(all_texts)
    scored = []
    for term, count in inside.items():
        if count < 2 and len(cluster_texts) > 2:
            continue
        weight = (count / len(cluster_texts)) * math.log(1 + n / docs[term]) * (1.3 if " " in term else 1.0)
        scored.append((weight, term))
    chosen: list[str] = []
    for _, term in sorted(scored, reverse=True):
        if any(term in c or c in term for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == top:
            break
    return chosen


def cluster_topics(
    texts: Sequence[str],
    embeddings: np.ndarray,
    *,
    discussion: Sequence[float] | None = None,
    max_topics: int = 6,
    min_size: int = 3,
    distance_threshold: float = 0.75,
    examples: int = 3,
) -> list[Topic]:
    """Topics of `texts` (embeddings L2-normalised, one row per text), most discussed first.

    `discussion[i]` is how much post i was discussed (replies, reposts, likes); examples are the most
    discussed posts of a topic, then those nearest its centre.
    """
    if len(texts) < min_size:
        return []
    vectors = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    labels = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance_threshold
    ).fit_predict(vectors)
    weights = np.asarray(discussion if discussion is not None else [0.0] * len(texts), dtype=float)
    topics: list[tuple[float, Topic]] = []
    for label in set(labels.tolist()):
        members = np.flatnonzero(labels == label)
        if len(members) < min_size:
            continue
        centre = vectors[members].mean(axis=0)
        closeness = vectors[members] @ centre
        order = sorted(range(len(members)), key=lambda k: (-weights[members[k]], -closeness[k]))
        ranked = [int(members[k]) for k in order]
        terms = telling_terms([texts[int(i)] for i in members], texts)
        heat = len(members) + float(weights[members].sum())
        topics.append(
            (
                heat,
                Topic(indices=ranked[: max(examples, 1)] + ranked[examples:], terms=terms, size=len(members)),
            )
        )
    topics.sort(key=lambda pair: -pair[0])
    return [topic for _, topic in topics[:max_topics]]
