"""`analyze_texts`: the whole understanding pipeline on plain texts, used by the CLI, the Django task and
any other app. One encoder forward pass per text feeds every head and the tagger; the heads also read the
text's hashed word n-grams (lexical.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from servicepulse.analysis.ml.artifacts import artifacts_dir
from servicepulse.analysis.ml.encoder import DEFAULT_BATCH_SIZE, Encoder, get_encoder
from servicepulse.analysis.ml.heads import Heads
from servicepulse.analysis.ml.language import detect_language
from servicepulse.analysis.ml.normalise import normalise
from servicepulse.analysis.ml.outage_questions import asks_if_down
from servicepulse.analysis.ml.tagging import CatalogTagger

OUTAGE_QUESTION_SCORE = 0.8  # the complaint score of a post asking whether a service is down, at least
_lock = threading.Lock()
_heads: dict[str, Heads] = {}


@dataclass
class AnalysisResult:
    text: str
    normalised: str
    language: str
    complaint: bool
    complaint_score: float
    sentiment: str
    sentiment_score: float  # P(positive) - P(negative)
    spam: bool
    spam_score: float
    services: list[tuple[str, float]] = field(default_factory=list)
    embedding: np.ndarray | None = None

    @property
    def service_ids(self) -> list[str]:
        return [s for s, _ in self.services]


def get_heads(directory: str | None = None) -> Heads:
    """The trained heads (committed artifacts unless `SERVICEPULSE_MODEL_DIR` points elsewhere), loaded once."""
    from pathlib import Path

    path = Path(directory) if directory else artifacts_dir()
    key = str(path.resolve())
    with _lock:
        heads = _heads.get(key)
        if heads is None:
            heads = Heads.load(path)
            _heads[key] = heads
    return heads


def model_version() -> str:
    return get_heads().version


def analyze_texts(
    texts: Sequence[str],
    catalog: Sequence[Mapping[str, Any]] | CatalogTagger | None = None,
    *,
    batch_size: int = 256,
    keep_embeddings: bool = False,
    encoder: Encoder | None = None,
    heads: Heads | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[AnalysisResult]:
    """Analyse `texts`: normalise, detect language, encode once, classify (complaint, sentiment, spam) and
    tag with `catalog` (records or a prepared tagger; no tagging without one). Raises TypeError for a text
    that is not a string. `on_progress(n)` is called after each batch of n texts."""
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text #{i + 1} is not a string ({type(text).__name__})")
    encoder = encoder or get_encoder()
    heads = heads or get_heads()
    tagger: CatalogTagger | None
    if catalog is None:
        tagger = None
    elif isinstance(catalog, CatalogTagger):
        tagger = catalog
    else:
        tagger = CatalogTagger(list(catalog), encoder=encoder)
    results: list[AnalysisResult] = []
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        normalised = [normalise(t) for t in chunk]
        encoded = encoder.encode(normalised, batch_size=DEFAULT_BATCH_SIZE)
        hashed = heads.hashed(normalised)  # the n-grams are hashed once per batch for all three heads
        lexicon = heads.lexicon(normalised)  # VADER's scores, for the heads that read them
        p_complaint = heads.heads["complaint"].proba(encoded.features, hashed, lexicon)
        p_sentiment = heads.heads["sentiment"].proba(encoded.features, hashed, lexicon)
        p_spam = heads.heads["spam"].proba(encoded.features, hashed, lexicon)
        tags = tagger.tag(normalised, encoded.embeddings) if tagger is not None else [[] for _ in chunk]
        results.extend(
            _result(
                heads,
                text,
                norm,
                p_complaint[i],
                p_sentiment[i],
                p_spam[i],
                tags[i],
                encoded.embeddings[i] if keep_embeddings else None,
            )
            for i, (text, norm) in enumerate(zip(chunk, normalised, strict=True))
        )
        if on_progress is not None:
            on_progress(len(chunk))
    return results


def _positive(head_classes: list[Any], proba: np.ndarray) -> float:
    return float(proba[head_classes.index(1)])


def _result(
    heads: Heads,
    text: str,
    norm: str,
    p_complaint: np.ndarray,
    p_sentiment: np.ndarray,
    p_spam: np.ndarray,
    services: list[tuple[str, float]],
    embedding: np.ndarray | None,
) -> AnalysisResult:
    complaint_head, sentiment_head, spam_head = (heads.heads[t] for t in ("complaint", "sentiment", "spam"))
    complaint_score = _positive(complaint_head.classes, p_complaint)
    if asks_if_down(norm):  # "is eduroam down?" reports a problem, whatever the head reads in it
        complaint_score = max(complaint_score, OUTAGE_QUESTION_SCORE, complaint_head.threshold)
    spam_score = _positive(spam_head.classes, p_spam)
    classes = sentiment_head.classes
    sentiment = str(classes[int(np.argmax(p_sentiment))])
    sentiment_score = float(p_sentiment[classes.index("positive")] - p_sentiment[classes.index("negative")])
    return AnalysisResult(
        text=text,
        normalised=norm,
        language=detect_language(norm),
        complaint=complaint_score >= complaint_head.threshold,
        complaint_score=round(complaint_score, 4),
        sentiment=sentiment,
        sentiment_score=round(sentiment_score, 4),
        spam=spam_score >= spam_head.threshold,
        spam_score=round(spam_score, 4),
        services=services,
        embedding=embedding,
    )
