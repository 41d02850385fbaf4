"""Service tagging from the catalogue alone: aliases (exact, case- and accent-insensitive, hashtags, common
misspellings) and embedding similarity to each service's name, description and example posts.

Nothing here is trained: a catalogue edit takes effect the next time a tagger is built (catalogue texts'
embeddings are cached by content, so rebuilding is cheap).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from servicepulse.analysis.ml.normalise import fold, normalise

# Similarity blend (tuned on the first half of the airline development data, see MODELS.md): the examples
# say how people write about a service, the description what it is, the name what they call it; naming an
# alias adds a bonus rather than overriding the similarity (aliases such as "delayed" are often incidental).
W_DESCRIPTION = 0.35
W_NAME = 0.15
W_EXAMPLES = 0.50
ALIAS_BONUS = 0.10  # exact alias; a fuzzy (misspelt) one adds 0.7 of it
# Calibration of the blended cosine similarity into a confidence (logistic), and the cut-offs.
SIM_MIDPOINT = 0.27
SIM_SPREAD = 0.05
MIN_CONFIDENCE = 0.5
RELATIVE_MARGIN = 0.08  # a second service must be within this much blended similarity of the best
MAX_SERVICES = 3
ALIAS_FLOOR = 0.9  # confidence at least this (x0.7 when misspelt) for a service the post names
ALIAS_CONFIDENCE = 1.0
FUZZY_ALIAS_CONFIDENCE = 0.7

_TOKEN = re.compile(r"#?\w+(?:['\u2019]\w+)?")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

_cache_lock = threading.Lock()
_text_cache: dict[str, np.ndarray] = {}
_CACHE_LIMIT = 20000


def _tokens(text: str) -> tuple[list[str], set[str]]:
    """Folded word tokens of `text`, and the folded hashtags (with camelCase split into words too)."""
    words: list[str] = []
    hashtags: set[str] = set()
    for raw in _TOKEN.findall(text):
        if raw.startswith("#"):
            body = raw[1:]
            hashtags.add(fold(body))
            parts = [fold(p) for p in _CAMEL.split(body) if p]
            words.extend(parts if len(parts) > 1 else [fold(body)])
        else:
            words.append(fold(raw))
    return words, hashtags


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, stopping early past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _allowed_typos(word: str) -> int:
    # Short names are too easily confused with ordinary words ("vpn"/"van"): exact only.
    if len(word) < 5 or word.isdigit():
        return 0
    return 1 if len(word) < 9 else 2


@dataclass(frozen=True)
class _Alias:
    service_index: int
    words: tuple[str, ...]
    joined: str
    fuzzy: bool  # whether a misspelling of it counts (some word long enough to tell)


class CatalogTagger:
    """Tags texts with catalogue services. `records` are dicts with id, name, aliases, description, examples
    (the shape of a catalogue file and of `catalog_as_records()`)."""

    def __init__(self, records: Sequence[Mapping[str, Any]], *, encoder: Any = None) -> None:
        self.ids = [str(r["id"]) for r in records]
        self._encoder = encoder
        self._aliases: list[_Alias] = []
        for index, record in enumerate(records):
            names = [str(record.get("name") or "")] + [str(a) for a in record.get("aliases") or []]
            for alias in names:
                words = tuple(_tokens(alias)[0])
                if words:
                    fuzzy = any(_allowed_typos(w) for w in words)
                    self._aliases.append(_Alias(index, words, "".join(words), fuzzy))
        self._fuzzy_words = sorted({w for a in self._aliases for w in a.words if _allowed_typos(w)})
        self._near_cache: dict[str, frozenset[str]] = {}
        self._by_first: dict[str, list[_Alias]] = {}
        self._by_joined: dict[str, list[_Alias]] = {}
        for entry in self._aliases:
            self._by_first.setdefault(entry.words[0], []).append(entry)
            self._by_joined.setdefault(entry.joined, []).append(entry)
        self._descriptions = [
            f"{r.get('name') or r['id']}: {r.get('description') or ''}".strip(" :") for r in records
        ]
        self._examples = [[str(e) for e in (r.get("examples") or []) if str(e).strip()] for r in records]
        self._names = [str(r.get("name") or r["id"]) for r in records]
        self._name_emb: np.ndarray | None = None
        self._desc_emb: np.ndarray | None = None
        self._example_emb: list[np.ndarray] | None = None

    # -- catalogue embeddings -------------------------------------------------------------------------
    def _encoder_or_default(self) -> Any:
        if self._encoder is None:
            from servicepulse.analysis.ml.encoder import get_encoder

            self._encoder = get_encoder()
        return self._encoder

    def _embed_cached(self, texts: list[str]) -> np.ndarray:
        normalised = [normalise(t) for t in texts]
        with _cache_lock:
            missing = sorted({t for t in normalised if t not in _text_cache})
        if missing:
            vectors = self._encoder_or_default().encode(missing).embeddings
            with _cache_lock:
                if len(_text_cache) + len(missing) > _CACHE_LIMIT:
                    _text_cache.clear()
                _text_cache.update(zip(missing, vectors, strict=True))
        dim = self._encoder_or_default().dimension
        with _cache_lock:
            return np.array([_text_cache[t] for t in normalised], dtype=np.float32).reshape(len(texts), dim)

    def _prepare(self) -> None:
        if self._desc_emb is not None:
            return
        self._desc_emb = self._embed_cached(self._descriptions)
        self._name_emb = self._embed_cached(self._names)
        flat = [e for examples in self._examples for e in examples]
        flat_emb = self._embed_cached(flat)
        self._example_emb = []
        start = 0
        for examples in self._examples:
            self._example_emb.append(flat_emb[start : start + len(examples)])
            start += len(examples)

    # -- scoring --------------------------------------------------------------------------------------
    def similarity(self, embeddings: np.ndarray) -> np.ndarray:
        """Blended similarity of each text (rows) to each service (columns)."""
        self._prepare()
        assert self._desc_emb is not None and self._example_emb is not None and self._name_emb is not None
        if not self.ids:
            return np.zeros((len(embeddings), 0), dtype=np.float32)
        desc = embeddings @ self._desc_emb.T
        examples = np.zeros_like(desc)
        for j, emb in enumerate(self._example_emb):
            if len(emb):
                sims = np.sort(embeddings @ emb.T, axis=1)[:, ::-1]
                # the closest example counts most, the next ones a little (robust to one odd example)
                top = sims[:, : min(2, sims.shape[1])]
                examples[:, j] = top.mean(axis=1) if top.shape[1] == 1 else 0.7 * top[:, 0] + 0.3 * top[:, 1]
            else:
                examples[:, j] = desc[:, j]
        return W_DESCRIPTION * desc + W_NAME * (embeddings @ self._name_emb.T) + W_EXAMPLES * examples

    def alias_matches(self, text: str) -> dict[int, float]:
        """Services whose name or an alias the text names: index -> confidence (exact beats fuzzy)."""
        words, hashtags = _tokens(text)
        found: dict[int, float] = {}
        for tag in hashtags:
            for alias in self._by_joined.get(tag, ()):
                found[alias.service_index] = ALIAS_CONFIDENCE
        near = [self._near_words(w) for w in words]
        for i, word in enumerate(words):
            for first in (word, *near[i]):
                for alias in self._by_first.get(first, ()):
                    n = len(alias.words)
                    window = words[i : i + n]
                    if len(window) < n or found.get(alias.service_index, 0.0) >= ALIAS_CONFIDENCE:
                        continue
                    if tuple(window) == alias.words:
                        found[alias.service_index] = ALIAS_CONFIDENCE
                    elif alias.fuzzy and all(
                        a == w or a in near[i + k]
                        for k, (a, w) in enumerate(zip(alias.words, window, strict=True))
                    ):
                        found.setdefault(alias.service_index, FUZZY_ALIAS_CONFIDENCE)
        return found

    def _near_words(self, word: str) -> frozenset[str]:
        """Alias words within their allowed number of typos of `word` (cached per tagger)."""
        cached = self._near_cache.get(word)
        if cached is None:
            cached = frozenset(
                a
                for a in self._fuzzy_words
                if abs(len(a) - len(word)) <= _allowed_typos(a)
                and _edit_distance(a, word, _allowed_typos(a)) <= _allowed_typos(a)
            )
            if len(self._near_cache) < 100_000:
                self._near_cache[word] = cached
        return cached

    def tag(self, texts: Sequence[str], embeddings: np.ndarray) -> list[list[tuple[str, float]]]:
        """For each text (with its sentence embedding), services best first with a confidence in [0, 1];
        an empty list when nothing in the catalogue is close enough."""
        if not self.ids:
            return [[] for _ in texts]
        sims = self.similarity(embeddings)
        results: list[list[tuple[str, float]]] = []
        for text, row in zip(texts, sims, strict=True):
            aliases = self.alias_matches(text)
            for j, strength in aliases.items():
                row[j] += ALIAS_BONUS * strength
            best = float(row.max())
            chosen = []
            for j, score in enumerate(row):
                confidence = _calibrate(float(score))
                if j in aliases:  # a service the post names is always kept
                    confidence = max(confidence, ALIAS_FLOOR * aliases[j])
                elif float(score) < best - RELATIVE_MARGIN:
                    continue
                if confidence >= MIN_CONFIDENCE:
                    chosen.append((float(score), j, confidence))
            chosen.sort(reverse=True)  # best blended similarity first (the tuned ranking)
            results.append([(self.ids[j], round(c, 4)) for _, j, c in chosen[:MAX_SERVICES]])
        return results

    def tag_texts(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Tag raw texts (normalised and encoded here)."""
        normalised = [normalise(t) for t in texts]
        embeddings = self._encoder_or_default().encode(normalised).embeddings
        return self.tag(normalised, embeddings)


def _calibrate(similarity: float) -> float:
    return 1.0 / (1.0 + math.exp(-(similarity - SIM_MIDPOINT) / SIM_SPREAD))
