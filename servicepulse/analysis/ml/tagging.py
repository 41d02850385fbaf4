"""Service tagging from the catalogue alone: aliases (exact, case- and accent-insensitive, hashtags, common
misspellings, with or without hyphens, inside unspaced Chinese, Japanese or Thai text), embedding similarity
to each service's name, description and example posts, the words the catalogue uses for each service, and a
small linear discriminant fitted to the catalogue's own texts.

Nothing here is trained on labelled posts: everything the tagger knows of a service comes from its catalogue
entry, and a catalogue edit takes effect the next time a tagger is built (catalogue texts' embeddings are
cached by content and the discriminant fits in a fraction of a second, so rebuilding is cheap).
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import regex

from servicepulse.analysis.ml.normalise import EMAIL_TOKEN, URL_TOKEN, fold, normalise

# Semantic similarity blend: the examples say how people write about a service, the description what it is,
# the name what they call it.
W_DESCRIPTION = 0.35
W_NAME = 0.15
W_EXAMPLES = 0.50
ALIAS_BONUS = 0.10  # added to the similarity for the "close enough" test; a misspelt alias adds 0.7 of it
# Whether a post is about the catalogue at all: the blended cosine similarity (plus the alias bonus) turned
# into a confidence by a logistic curve; nothing is returned when no service reaches MIN_CONFIDENCE.
SIM_MIDPOINT = 0.27
SIM_SPREAD = 0.05
MIN_CONFIDENCE = 0.5
# Which service: a rank score on a log-odds scale, summed over four views of the catalogue (weights chosen on
# the tuning half of the airline development data with several catalogues, see MODELS.md):
#   the discriminant's log-probability (weight 1) + W_SEMANTIC x blended similarity
#   + W_ALIAS x alias match (1, or 0.7 misspelt) + W_LEXICAL x catalogue-word overlap (0..1).
W_SEMANTIC = 3.0
W_ALIAS = 0.5
W_LEXICAL = 2.0
DISCRIMINANT_C = 1.0  # inverse L2 strength of the catalogue discriminant (a multinomial logistic regression)
SECOND_SHARE = 0.5  # another service is kept when its softmax share is at least this fraction of the best's
MAX_SERVICES = 3
ALIAS_FLOOR = 0.9  # confidence at least this (x0.7 when misspelt) for a service the post names
ALIAS_CONFIDENCE = 1.0
FUZZY_ALIAS_CONFIDENCE = 0.7
# Words that say nothing about a service, left out of the word overlap (with the placeholders of normalise).
_STOP_TEXT = """
    a about after again all also am an and any are as at be been before being but by can could did do does
    doing for from get got had has have having he her here him his how i if in into is it its just me more
    most my no nor not now of off on once only or other our out over own same she should so some such than
    that the their them then there these they this those through to too under until up very was we were what
    when where which while who why will with would you your user http email
"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())

# Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Myanmar): a run of them
# is a token of its own, so "Moodle登录不了" holds the word "moodle", and an alias in them is found inside a run
# ("教务系统" in "教务系统登不上").
_UNSPACED = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
_UNSPACED_CHAR = regex.compile(f"[{_UNSPACED}]")
# A word: letters with their combining marks (the regex module's \w has them; re's splits "हिन्दी" and an Arabic
# word with its vowel marks into pieces), with an inner apostrophe ("ap'r", straight or curly); a hashtag's # may be the
# full-width one.
_TOKEN = regex.compile(f"[#\uff03]?(?:[{_UNSPACED}]+|[^\\W{_UNSPACED}]+(?:['\u2019][^\\W{_UNSPACED}]+)?)")
_PLACEHOLDERS = frozenset({EMAIL_TOKEN, URL_TOKEN})
_JOINED_MIN = 4  # a spelling without the alias's hyphens or spaces ("wifi" for "Wi-Fi") from this length
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

_cache_lock = threading.Lock()
_text_cache: dict[str, np.ndarray] = {}
_CACHE_LIMIT = 20000


def _tokens(text: str) -> tuple[list[str], set[str]]:
    """Folded word tokens of `text`, and the folded hashtags (with camelCase split into words too)."""
    words: list[str] = []
    hashtags: set[str] = set()
    for raw in _TOKEN.findall(text):
        if raw[0] in "#\uff03":
            body = raw[1:]
            hashtags.add(fold(body))
            parts = [fold(p) for p in _CAMEL.split(body) if p]
            words.extend(parts if len(parts) > 1 else [fold(body)])
        else:
            words.append(fold(raw))
    return words, hashtags


def _stem(word: str) -> str:
    """A light English suffix-stripper for the word overlap: plurals, -ing, -ed, a final e and doubled
    consonants ("queues"/"queue" -> "queu", "cancelled"/"canceled" -> "cancel", "delays" -> "delay")."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousl":
        word = word[:-1]
    if word.endswith("ll") and len(word) > 4:
        word = word[:-1]
    return word


def _content_stems(text: str) -> list[str]:
    """Stems of the words of `text` that can say something about a service (stop words left out)."""
    return [_stem(w) for w in _tokens(text)[0] if w not in _STOP_WORDS and not w.startswith("@")]


class _WordOverlap:
    """How much of a post's catalogue vocabulary points at each service. Each service's name, description and
    aliases are a document; a word weighs log(services / services using it), so a word every service uses
    (such as "flight" in an airline's catalogue) weighs nothing, and its count in the document saturates as in
    BM25. Examples are left out: they are full of incidental words. The score is the cosine of the post's
    catalogue words (weighted by idf) with the service's weighted words, in [0, 1]."""

    K1 = 1.2

    def __init__(self, documents: Sequence[str]) -> None:
        counts = [Counter(_content_stems(doc)) for doc in documents]
        n = len(counts)
        df = Counter(w for c in counts for w in c)
        self._idf = {w: math.log(n / k) for w, k in df.items()}
        self._weights: list[dict[str, float]] = []
        for c in counts:
            vec = {w: tf * (self.K1 + 1) / (tf + self.K1) * self._idf[w] for w, tf in c.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            self._weights.append({w: v / norm for w, v in vec.items()})

    def scores(self, text: str) -> np.ndarray:
        words = {w for w in _content_stems(text) if w in self._idf}
        out = np.zeros(len(self._weights), dtype=np.float32)
        norm = math.sqrt(sum(self._idf[w] ** 2 for w in words))
        if norm == 0.0:
            return out
        for j, weights in enumerate(self._weights):
            out[j] = sum(weights.get(w, 0.0) * self._idf[w] for w in words) / norm
        return out


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


def _deletions(word: str, most: int) -> set[str]:
    """`word` and every string left after deleting up to `most` of its characters."""
    found, frontier = {word}, {word}
    for _ in range(most):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _allowed_typos(word: str) -> int:
    # Short names are too easily confused with ordinary words ("vpn"/"van"): exact only. So are words of the
    # unspaced scripts, where one character is a word of its own.
    if len(word) < 5 or word.isdigit() or _UNSPACED_CHAR.search(word):
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
    (the shape of a catalogue file and of `catalog_as_records()`). Everything is derived from them when the
    tagger is first used (embeddings of the catalogue texts, the discriminant, the word weights): build a new
    tagger after a catalogue edit."""

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
        # Each alias word that may carry typos, with how many (read for every new word of every post).
        fuzzy_words = sorted(
            (w, typos) for w in {w for a in self._aliases for w in a.words} if (typos := _allowed_typos(w))
        )
        # Candidates for a post word are found through the strings left after deleting up to `typos` characters
        # (two words within k edits, transpositions included, share such a string with at most k deletions
        # from each), so a post word is compared only with the alias words it might be a misspelling of.
        self._by_deletion: dict[str, list[tuple[str, int]]] = {}
        for word, typos in fuzzy_words:
            for variant in _deletions(word, typos):
                self._by_deletion.setdefault(variant, []).append((word, typos))
        self._max_typos = max((typos for _, typos in fuzzy_words), default=0)
        self._max_fuzzy_len = max((len(w) for w, _ in fuzzy_words), default=0)
        self._near_cache: dict[str, frozenset[str]] = {}
        self._by_first: dict[str, list[_Alias]] = {}
        self._by_joined: dict[str, list[_Alias]] = {}
        for entry in self._aliases:
            self._by_first.setdefault(entry.words[0], []).append(entry)
            self._by_joined.setdefault(entry.joined, []).append(entry)
        # Aliases starting with a word of an unspaced script: the post's run may hold more before it.
        self._unspaced_first = [a for a in self._aliases if _UNSPACED_CHAR.search(a.words[0])]
        self._longest = max((len(a.words) for a in self._aliases), default=0)
        self._names = [str(r.get("name") or r["id"]) for r in records]
        self._descriptions = [
            f"{name}: {r.get('description') or ''}".strip(" :")
            for name, r in zip(self._names, records, strict=True)
        ]
        self._examples = [[str(e) for e in (r.get("examples") or []) if str(e).strip()] for r in records]
        # What the discriminant learns from: every text the catalogue gives for a service.
        self._training: list[list[str]] = []
        for name, description, examples, record in zip(
            self._names, self._descriptions, self._examples, records, strict=True
        ):
            aliases = [str(a) for a in record.get("aliases") or [] if str(a).strip()]
            texts = [
                name,
                description,
                *examples,
                *(f"{name}: {e}" for e in examples),
                *aliases,
                *(f"{name}: {a}" for a in aliases),
            ]
            self._training.append(list(dict.fromkeys(texts)))
        self._words = _WordOverlap(
            [
                " ".join([name, str(r.get("description") or ""), *(str(a) for a in r.get("aliases") or [])])
                for name, r in zip(self._names, records, strict=True)
            ]
        )
        self._name_emb: np.ndarray | None = None
        self._desc_emb: np.ndarray | None = None
        self._example_emb: list[np.ndarray] | None = None
        self._discriminant: tuple[np.ndarray, np.ndarray] | None = None  # (coef: services x dim, intercept)

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
        self._name_emb = self._embed_cached(self._names)
        self._example_emb = _split(
            self._embed_cached([e for ex in self._examples for e in ex]), self._examples
        )
        training = _split(self._embed_cached([t for ts in self._training for t in ts]), self._training)
        self._discriminant = _fit_discriminant(training)
        self._desc_emb = self._embed_cached(self._descriptions)  # last: it marks the tagger as prepared

    # -- scoring --------------------------------------------------------------------------------------
    def similarity(self, embeddings: np.ndarray) -> np.ndarray:
        """Blended cosine similarity of each text (rows) to each service (columns)."""
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

    def discriminant(self, embeddings: np.ndarray) -> np.ndarray:
        """Log-probability of each service (columns) for each text (rows) under the linear discriminant fitted
        to the catalogue's texts; all zeros when the catalogue has fewer than two services."""
        if not self.ids:
            return np.zeros((len(embeddings), 0), dtype=np.float32)
        self._prepare()
        assert self._discriminant is not None
        coef, intercept = self._discriminant
        logits = embeddings @ coef.T + intercept
        logits -= logits.max(axis=1, keepdims=True)
        return np.asarray(logits - np.log(np.exp(logits).sum(axis=1, keepdims=True)), dtype=np.float32)

    def word_overlap(self, text: str) -> np.ndarray:
        """How much of the text's catalogue vocabulary points at each service, in [0, 1]."""
        return self._words.scores(text)

    def rank_scores(self, texts: Sequence[str], embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rank score, blended similarity plus alias bonus) of each text (rows) for each service (columns):
        the first orders the services, the second says whether the text is about them at all."""
        rank, closeness, _ = self._scores(texts, embeddings)
        return rank, closeness

    def _scores(
        self, texts: Sequence[str], embeddings: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, list[dict[int, float]]]:
        similarity = self.similarity(embeddings)
        rank = self.discriminant(embeddings) + W_SEMANTIC * similarity
        named = [self.alias_matches(text) for text in texts]
        for i, (text, aliases) in enumerate(zip(texts, named, strict=True)):
            rank[i] += W_LEXICAL * self.word_overlap(text)
            for j, strength in aliases.items():
                rank[i, j] += W_ALIAS * strength
                similarity[i, j] += ALIAS_BONUS * strength
        return rank, similarity, named

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
                    if _unspaced_fit(
                        alias.words, window
                    ):  # the same words ("it" + "服务台没人接" for "IT服务台")
                        found[alias.service_index] = ALIAS_CONFIDENCE
                    elif alias.fuzzy and all(
                        a == w or a in near[i + k]
                        for k, (a, w) in enumerate(zip(alias.words, window, strict=True))
                    ):
                        found.setdefault(alias.service_index, FUZZY_ALIAS_CONFIDENCE)
            if _UNSPACED_CHAR.search(word):
                for alias in self._unspaced_first:
                    window = words[i : i + len(alias.words)]
                    if _unspaced_fit(alias.words, window):
                        found[alias.service_index] = ALIAS_CONFIDENCE
            # The same name with or without its hyphens and spaces: "wifi" or "wi fi" for "Wi-Fi", "ebost" for
            # "e-bost", "wi-fi" for "WiFi".
            for n in range(1, self._longest + 2):
                if i + n > len(words):
                    break
                joined = "".join(words[i : i + n])
                # normalise's placeholder for an e-mail address is not the word "email" (alias "E-mail")
                if len(joined) >= _JOINED_MIN and (n > 1 or joined not in _PLACEHOLDERS):
                    for alias in self._by_joined.get(joined, ()):
                        found[alias.service_index] = ALIAS_CONFIDENCE
        return found

    def _near_words(self, word: str) -> frozenset[str]:
        """Alias words within their allowed number of typos of `word` (cached per tagger)."""
        cached = self._near_cache.get(word)
        if cached is None:
            if self._max_typos and len(word) <= self._max_fuzzy_len + self._max_typos:
                candidates = {
                    c for v in _deletions(word, self._max_typos) for c in self._by_deletion.get(v, ())
                }
            else:
                candidates = set()
            cached = frozenset(
                a
                for a, typos in candidates
                if abs(len(a) - len(word)) <= typos and _edit_distance(a, word, typos) <= typos
            )
            if len(self._near_cache) < 100_000:
                self._near_cache[word] = cached
        return cached

    def tag(self, texts: Sequence[str], embeddings: np.ndarray) -> list[list[tuple[str, float]]]:
        """For each text (with its sentence embedding), services best first with a confidence in [0, 1];
        an empty list when nothing in the catalogue is close enough.

        A text is about the catalogue when some service's blended similarity (plus the alias bonus) calibrates
        to at least MIN_CONFIDENCE, or when it names an alias. The services are then ordered by rank score; the
        best one's confidence is that calibrated closeness, another's is scaled by its softmax share of the
        rank scores relative to the best's, and it is kept when that share is at least SECOND_SHARE. A service
        the post names is always kept (confidence at least ALIAS_FLOOR, x0.7 when misspelt)."""
        if not self.ids:
            return [[] for _ in texts]
        rank, closeness, named = self._scores(texts, embeddings)
        results: list[list[tuple[str, float]]] = []
        for aliases, rank_row, close_row in zip(named, rank, closeness, strict=True):
            gate = _calibrate(float(close_row.max()))
            if gate < MIN_CONFIDENCE and not aliases:
                results.append([])
                continue
            share = np.exp(rank_row - rank_row.max())  # softmax share relative to the best service
            chosen: list[tuple[str, float]] = []
            for position, j in enumerate(np.argsort(-rank_row, kind="stable").tolist()):
                confidence = gate * float(share[j])
                if j in aliases:
                    confidence = max(confidence, ALIAS_FLOOR * aliases[j])
                elif position == 0:
                    if gate < MIN_CONFIDENCE:
                        continue
                elif share[j] < SECOND_SHARE or confidence < MIN_CONFIDENCE:
                    continue
                chosen.append((self.ids[j], round(min(confidence, 1.0), 4)))
            results.append(chosen[:MAX_SERVICES])
        return results

    def tag_texts(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Tag raw texts (normalised and encoded here)."""
        normalised = [normalise(t) for t in texts]
        embeddings = self._encoder_or_default().encode(normalised).embeddings
        return self.tag(normalised, embeddings)


def _unspaced_fit(alias: tuple[str, ...], window: Sequence[str]) -> bool:
    """Whether the post's words `window` name the alias `alias` whose words may be runs of an unspaced script:
    such a run of the post may carry more characters where the alias meets the rest of the post (before its
    first word, after its last), none between its words."""
    if len(window) != len(alias):
        return False
    last = len(alias) - 1
    for k, (a, w) in enumerate(zip(alias, window, strict=True)):
        if a == w:
            continue
        if not _UNSPACED_CHAR.search(a):
            return False
        if k == 0 and k == last:
            fits = a in w
        elif k == 0:
            fits = w.endswith(a)
        elif k == last:
            fits = w.startswith(a)
        else:
            fits = False
        if not fits:
            return False
    return True


def _split(flat: np.ndarray, groups: Sequence[Sequence[str]]) -> list[np.ndarray]:
    """Rows of `flat` cut into one block per group (in order, by the groups' lengths)."""
    out: list[np.ndarray] = []
    start = 0
    for group in groups:
        out.append(flat[start : start + len(group)])
        start += len(group)
    return out


def _fit_discriminant(blocks: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A multinomial logistic regression from the catalogue's own texts (one block of embeddings per service)
    to their service: it finds the directions that tell the services apart, which raw cosine similarity
    drowns in what all of a catalogue's texts share. Deterministic (lbfgs) and fast (a few hundred texts)."""
    dim = blocks[0].shape[1] if blocks else 0
    if sum(1 for b in blocks if len(b)) < 2:
        return np.zeros((len(blocks), dim), dtype=np.float32), np.zeros(len(blocks), dtype=np.float32)
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([b for b in blocks if len(b)])
    y = np.concatenate([np.full(len(b), j) for j, b in enumerate(blocks) if len(b)])
    model = LogisticRegression(C=DISCRIMINANT_C, max_iter=2000)
    model.fit(x, y)
    weights, bias = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # sklearn keeps one row (the log-odds of the second class): split it in two
        weights, bias = np.vstack([-weights / 2, weights / 2]), np.concatenate([-bias / 2, bias / 2])
    coef = np.zeros((len(blocks), dim), dtype=np.float32)
    intercept = np.full(len(blocks), -1e4, dtype=np.float32)  # a service without texts is never chosen
    coef[model.classes_] = weights
    intercept[model.classes_] = bias
    return coef, intercept


def _calibrate(similarity: float) -> float:
    return 1.0 / (1.0 + math.exp(-(similarity - SIM_MIDPOINT) / SIM_SPREAD))
