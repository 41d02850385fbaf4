"""Sentiment-lexicon features read beside the encoder's: VADER's polarity scores of the normalised text.

VADER (Hutto and Gilbert, 2014; the PyPI package `vaderSentiment`, MIT, its lexicon of about 7,500 words,
emoticons and slang rated by people ships in the package) reads sentiment with rules the small training sets
cannot teach a head: negation ("not good"), boosters ("extremely"), "but" shifting the weight to what
follows, capitals and exclamation marks. Its four numbers, the shares of negative, neutral and positive
words and the normalised compound score, are a further block of the sentiment head (heads.py): with them
the head's cross-validated macro-recall on TweetEval went from 0.625 to 0.644 (MODELS.md); the complaint
and spam heads do not use them (no gain). About 0.06 ms per post.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

KIND = "vader"
FEATURES = ("neg", "neu", "pos", "compound")
VADER_VERSION = "3.3.2"

_lock = threading.Lock()
_analyzer: Any = None


def spec() -> dict[str, Any]:
    """What the lexicon block is, as stored in heads.json."""
    return {"kind": KIND, "package": "vaderSentiment", "version": VADER_VERSION, "features": list(FEATURES)}


def check_spec(stored: Mapping[str, Any]) -> None:
    """Raise ValueError unless `stored` (from heads.json) is the block this code computes."""
    if stored.get("kind") != KIND or list(stored.get("features", [])) != list(FEATURES):
        raise ValueError(f"unknown lexicon block {dict(stored)!r} (this code computes {spec()!r})")


def _get_analyzer() -> Any:
    global _analyzer
    with _lock:
        if _analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            _analyzer = SentimentIntensityAnalyzer()
        return _analyzer


def lexicon_features(normalised: Sequence[str]) -> np.ndarray:
    """One row per (normalised) text: VADER's neg, neu, pos and compound scores (float32)."""
    analyzer = _get_analyzer()
    rows = [[analyzer.polarity_scores(text)[name] for name in FEATURES] for text in normalised]
    return np.asarray(rows, dtype=np.float32).reshape(len(normalised), len(FEATURES))
