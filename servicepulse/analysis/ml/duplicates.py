"""Near-duplicate detection: the same complaint reposted or copied (retweets, copy-paste campaigns, a
user posting the same text on two channels). Two texts are near-duplicates when their character-shingle
Jaccard similarity is high, or their sentence embeddings are almost identical."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from servicepulse.analysis.ml.normalise import fold

SHINGLE = 5
JACCARD_THRESHOLD = 0.8
COSINE_THRESHOLD = 0.97
MIN_CHARS = 12  # "ok", "+1", "same here" are not copies of each other in any useful sense


def shingles(text: str, *, size: int = SHINGLE) -> frozenset[str]:
    """Character shingles of the folded, whitespace-collapsed text; retweet/quote prefixes dropped."""
    folded = " ".join(fold(text).split())
    if folded.startswith("rt @user"):
        folded = folded[len("rt @user") :].lstrip(" :")
    if len(folded) <= size:
        return frozenset([folded]) if folded else frozenset()
    return frozenset(folded[i : i + size] for i in range(len(folded) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def find_near_duplicates(
    texts: Sequence[str],
    embeddings: np.ndarray | None = None,
    *,
    earlier_texts: Sequence[str] = (),
    earlier_embeddings: np.ndarray | None = None,
) -> list[int | None]:
    """For each of `texts` (normalised), the index of the first earlier text it duplicates, or None.

    Indices count `earlier_texts` first (0 .. len(earlier)-1), then `texts` themselves: a text can duplicate
    an earlier one or one before it in the same batch.
    """
    pool_texts = list(earlier_texts) + list(texts)
    offset = len(earlier_texts)
    pool_shingles = [shingles(t) for t in pool_texts]
    pool_emb: np.ndarray | None = None
    if embeddings is not None and (earlier_embeddings is not None or not earlier_texts):
        parts = [earlier_embeddings] if earlier_embeddings is not None and len(earlier_texts) else []
        pool_emb = np.vstack([*parts, embeddings]) if parts else np.asarray(embeddings)
    long_enough = [len(t.strip()) >= MIN_CHARS for t in pool_texts]
    result: list[int | None] = []
    for k in range(len(texts)):
        i = offset + k
        found: int | None = None
        if long_enough[i]:
            cos = pool_emb[:i] @ pool_emb[i] if pool_emb is not None and i else None
            for j in range(i):
                if not long_enough[j]:
                    continue
                if (cos is not None and cos[j] >= COSINE_THRESHOLD) or jaccard(
                    pool_shingles[i], pool_shingles[j]
                ) >= JACCARD_THRESHOLD:
                    found = j
                    break
        result.append(found)
    return result
