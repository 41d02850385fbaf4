"""Sparse lexical features read beside the encoder's: a hashed bag of word 1-2-grams of the normalised text.

The frozen encoder's pooled layers miss some wording cues ("still waiting", "thanks for", "check out my");
a bag of n-grams catches them. The n-grams are hashed (MurmurHash3, 32-bit, seed 0, through sklearn's
`HashingVectorizer`) into `n_features` buckets, so nothing but the spec is stored: the same text gives the same
buckets in every process and on every machine. Term frequencies are sublinear (1 + log tf) and each row is
L2-normalised. The heads keep one weight per bucket they saw in training (heads.py, MODELS.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

KIND = "hashed-word-ngrams"
# Words of two or more letters or digits: punctuation and one-letter words are dropped.
WORD_PATTERN = r"(?u)\b\w\w+\b"
MAX_FEATURES = 2**24


@dataclass(frozen=True)
class LexicalSpec:
    """What the hashed features are: n-grams of `ngram_min`..`ngram_max` lower-cased words in `n_features`
    buckets. Stored in heads.json so that inference hashes exactly as training did."""

    ngram_min: int = 1
    ngram_max: int = 2
    n_features: int = 2**16

    def __post_init__(self) -> None:
        if not 1 <= self.ngram_min <= self.ngram_max <= 5:
            raise ValueError(f"bad n-gram range {self.ngram_min}..{self.ngram_max}")
        if not 1 <= self.n_features <= MAX_FEATURES:
            raise ValueError(f"n_features must be between 1 and {MAX_FEATURES}, not {self.n_features}")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "ngram_range": [self.ngram_min, self.ngram_max],
            "n_features": self.n_features,
            "token_pattern": WORD_PATTERN,
            "lowercase": True,
            "hash": "murmurhash3_32 seed 0, bucket = |hash| mod n_features (sklearn HashingVectorizer)",
            "tf": "1 + log(count)",
            "norm": "l2",
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LexicalSpec:
        """The spec stored by `to_json`; ValueError when it describes features this code does not compute."""
        expected = cls().to_json()
        for key in ("kind", "token_pattern", "lowercase", "tf", "norm"):
            if data.get(key) != expected[key]:
                raise ValueError(f"lexical features {key}={data.get(key)!r} are not supported")
        low, high = (int(v) for v in data["ngram_range"])
        return cls(ngram_min=low, ngram_max=high, n_features=int(data["n_features"]))


def hashed_ngrams(texts: Sequence[str], spec: LexicalSpec | None = None) -> sp.csr_matrix:
    """One row per text: hashed word n-gram counts, sublinear and L2-normalised (float32, CSR).

    `texts` are normalised texts (normalise.normalise); an empty text gives an all-zero row. Raises TypeError
    when `texts` is a bare string or holds something that is not a string."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.preprocessing import normalize

    if isinstance(texts, str | bytes):
        raise TypeError("texts must be a sequence of strings, not a single string")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text #{i + 1} is not a string ({type(text).__name__})")
    spec = spec or LexicalSpec()
    if len(texts) == 0:
        return sp.csr_matrix((0, spec.n_features), dtype=np.float32)
    vectorizer = HashingVectorizer(
        analyzer="word",
        ngram_range=(spec.ngram_min, spec.ngram_max),
        n_features=spec.n_features,
        token_pattern=WORD_PATTERN,
        lowercase=True,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )
    counts = sp.csr_matrix(vectorizer.transform(list(texts)))
    counts.data = 1.0 + np.log(counts.data)
    return sp.csr_matrix(normalize(counts, norm="l2", copy=False), dtype=np.float32)
