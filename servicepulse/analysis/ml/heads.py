"""Classifier heads over the shared encoder's features and the hashed n-grams, stored as plain arrays.

Each head is a (multinomial) logistic regression over two blocks: the standardised encoder features (dense)
and the hashed word n-grams of lexical.py (sparse). Format `servicepulse-heads/2`:

`heads.npz` (loaded with `allow_pickle=False`) holds, per task T:
- `T.mean`, `T.scale` (float32, features): standardisation of the encoder features;
- `T.coef` (float32, rows x features) and `T.intercept` (float32, rows): weights of the encoder block;
- `T.hash_idx` (int32, k, ascending): the hashed buckets the head has a weight for (those seen in training),
  and `T.hash_coef` (float16, rows x k): those weights, the block's scaling already folded in;
- optionally (the sentiment head) `T.lex_mean`, `T.lex_scale` (float32, 4) and `T.lex_coef` (float32, rows x
  4): standardisation and weights (block scaling folded in) of the lexicon block (lexicon.py: VADER's scores).
A binary head has one row of weights (for its second class); a multinomial head one row per class. The score
of a text is `((features - mean) / scale) @ coef.T + hashed[:, hash_idx] @ hash_coef.T
+ ((lexicon - lex_mean) / lex_scale) @ lex_coef.T + intercept` (the lexicon term only for a head that has it),
turned into probabilities with a softmax (a sigmoid for one row).

`heads.json` holds the format, the version, per task its `classes` and decision `threshold`, the `lexical`
spec (lexical.LexicalSpec.to_json: n-gram range, buckets, tokenisation, hashing), the `lexicon` spec when a
head reads that block (lexicon.spec), the encoder the heads were
trained on, the training data, hyperparameters and the cross-validated figures. Heads of an older format are
refused with an ArtifactError that says to retrain (`servicepulse train`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from servicepulse.analysis.ml import lexicon as lexicon_block
from servicepulse.analysis.ml.artifacts import HEADS_FILE, META_FILE
from servicepulse.analysis.ml.lexical import LexicalSpec, hashed_ngrams

FORMAT = "servicepulse-heads/2"
OLD_FORMATS = ("servicepulse-heads/1",)
TASKS = ("complaint", "sentiment", "spam")
SENTIMENT_CLASSES = ("negative", "neutral", "positive")


class ArtifactError(RuntimeError):
    """The model artifacts are missing or do not fit this version of the code."""


@dataclass
class LinearHead:
    classes: list[Any]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    threshold: float = 0.5  # binary heads: P(positive class) at or above this is a yes
    hash_idx: np.ndarray | None = None  # buckets of the hashed n-grams with a weight (ascending)
    hash_coef: np.ndarray | None = None  # rows x len(hash_idx)
    lex_mean: np.ndarray | None = None  # standardisation of the lexicon block (lexicon.py), when read
    lex_scale: np.ndarray | None = None
    lex_coef: np.ndarray | None = None  # rows x lexicon features

    @property
    def uses_hashed(self) -> bool:
        return self.hash_idx is not None and len(self.hash_idx) > 0

    @property
    def uses_lexicon(self) -> bool:
        return self.lex_coef is not None

    def proba(
        self,
        features: np.ndarray,
        hashed: sp.csr_matrix | None = None,
        lexicon: np.ndarray | None = None,
    ) -> np.ndarray:
        """Class probabilities, one row per feature row, columns in `classes` order. `hashed` (the rows'
        lexical.hashed_ngrams) and `lexicon` (their lexicon.lexicon_features) are required when the head
        has weights for them."""
        z = ((features - self.mean) / self.scale) @ self.coef.T + self.intercept
        idx, coef = self.hash_idx, self.hash_coef
        if idx is not None and coef is not None and len(idx):
            if hashed is None:
                raise ValueError("this head needs the hashed n-gram features of the texts")
            z = z + np.asarray(hashed[:, idx] @ coef.T.astype(np.float32))
        if self.lex_coef is not None and self.lex_mean is not None and self.lex_scale is not None:
            if lexicon is None:
                raise ValueError("this head needs the lexicon features of the texts")
            z = z + ((lexicon - self.lex_mean) / self.lex_scale) @ self.lex_coef.T
        if z.shape[1] == 1:  # a binary sklearn model keeps one row of weights
            z = np.hstack([-z / 2, z / 2])
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


@dataclass
class Heads:
    heads: dict[str, LinearHead]
    meta: dict[str, Any] = field(default_factory=dict)
    lexical: LexicalSpec | None = None  # how to hash the texts for heads with hashed weights

    @property
    def version(self) -> str:
        return str(self.meta.get("version", ""))

    def hashed(self, normalised: list[str]) -> sp.csr_matrix | None:
        """The hashed n-grams the heads read (None when no head uses them)."""
        if self.lexical is None or not any(h.uses_hashed for h in self.heads.values()):
            return None
        return hashed_ngrams(normalised, self.lexical)

    def lexicon(self, normalised: list[str]) -> np.ndarray | None:
        """The lexicon features the heads read (None when no head uses them)."""
        if not any(h.uses_lexicon for h in self.heads.values()):
            return None
        return lexicon_block.lexicon_features(normalised)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        tasks: dict[str, Any] = {}
        for task, head in self.heads.items():
            arrays[f"{task}.mean"] = head.mean.astype(np.float32)
            arrays[f"{task}.scale"] = head.scale.astype(np.float32)
            arrays[f"{task}.coef"] = head.coef.astype(np.float32)
            arrays[f"{task}.intercept"] = head.intercept.astype(np.float32)
            if head.uses_hashed:
                if self.lexical is None:
                    raise ValueError(f"the {task} head has hashed weights but the heads have no lexical spec")
                arrays[f"{task}.hash_idx"] = np.asarray(head.hash_idx, dtype=np.int32)
                arrays[f"{task}.hash_coef"] = np.asarray(head.hash_coef, dtype=np.float16)
            if head.lex_coef is not None and head.lex_mean is not None and head.lex_scale is not None:
                arrays[f"{task}.lex_mean"] = head.lex_mean.astype(np.float32)
                arrays[f"{task}.lex_scale"] = head.lex_scale.astype(np.float32)
                arrays[f"{task}.lex_coef"] = head.lex_coef.astype(np.float32)
            tasks[task] = {"classes": head.classes, "threshold": head.threshold}
        np.savez_compressed(directory / HEADS_FILE, **arrays)  # type: ignore[arg-type]  # numpy stub: allow_pickle
        meta = dict(self.meta, format=FORMAT, tasks=tasks)
        meta["lexical"] = self.lexical.to_json() if self.lexical is not None else None
        meta["lexicon"] = lexicon_block.spec() if any(h.uses_lexicon for h in self.heads.values()) else None
        (directory / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Heads:
        meta_path, arrays_path = directory / META_FILE, directory / HEADS_FILE
        if not meta_path.exists() or not arrays_path.exists():
            raise ArtifactError(f"no trained heads in {directory} (run `servicepulse train`)")
        meta = json.loads(meta_path.read_text())
        found = meta.get("format")
        if found in OLD_FORMATS:
            raise ArtifactError(
                f"{meta_path} has the old format {found!r}; this version reads {FORMAT!r} "
                "(heads with hashed n-gram weights): retrain with `servicepulse train`"
            )
        if found != FORMAT:
            raise ArtifactError(f"{meta_path} has format {found!r}, expected {FORMAT!r}")
        try:
            lexical = LexicalSpec.from_json(meta["lexical"]) if meta.get("lexical") else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{meta_path}: bad lexical spec ({exc})") from exc
        heads: dict[str, LinearHead] = {}
        with np.load(arrays_path, allow_pickle=False) as data:
            for task, info in meta["tasks"].items():
                head = LinearHead(
                    classes=list(info["classes"]),
                    mean=data[f"{task}.mean"],
                    scale=data[f"{task}.scale"],
                    coef=data[f"{task}.coef"],
                    intercept=data[f"{task}.intercept"],
                    threshold=float(info.get("threshold", 0.5)),
                )
                if f"{task}.hash_idx" in data.files:
                    head.hash_idx = data[f"{task}.hash_idx"]
                    head.hash_coef = data[f"{task}.hash_coef"]
                    _check_hashed(arrays_path, task, head, lexical)
                if f"{task}.lex_coef" in data.files:
                    head.lex_mean = data[f"{task}.lex_mean"]
                    head.lex_scale = data[f"{task}.lex_scale"]
                    head.lex_coef = data[f"{task}.lex_coef"]
                    _check_lexicon(arrays_path, task, head, meta.get("lexicon"))
                heads[task] = head
        missing = [t for t in TASKS if t not in heads]
        if missing:
            raise ArtifactError(f"{arrays_path} lacks heads for {', '.join(missing)}")
        return cls(heads=heads, meta=meta, lexical=lexical)


def _check_hashed(path: Path, task: str, head: LinearHead, lexical: LexicalSpec | None) -> None:
    idx, coef = np.asarray(head.hash_idx), np.asarray(head.hash_coef)
    if lexical is None:
        raise ArtifactError(f"{path}: the {task} head has hashed weights but heads.json has no lexical spec")
    if idx.ndim != 1 or coef.shape != (head.coef.shape[0], len(idx)):
        raise ArtifactError(f"{path}: {task}.hash_idx and {task}.hash_coef do not match")
    if len(idx) and (idx.min() < 0 or idx.max() >= lexical.n_features or np.any(np.diff(idx) <= 0)):
        raise ArtifactError(f"{path}: {task}.hash_idx is not ascending within {lexical.n_features} buckets")


def _check_lexicon(path: Path, task: str, head: LinearHead, stored: Any) -> None:
    if not isinstance(stored, dict):
        raise ArtifactError(f"{path}: the {task} head has lexicon weights but heads.json has no lexicon spec")
    try:
        lexicon_block.check_spec(stored)
    except ValueError as exc:
        raise ArtifactError(f"{path}: {exc}") from exc
    n = len(lexicon_block.FEATURES)
    shapes = tuple(np.asarray(a).shape for a in (head.lex_mean, head.lex_scale, head.lex_coef))
    if shapes != ((n,), (n,), (head.coef.shape[0], n)):
        raise ArtifactError(f"{path}: {task}.lex_mean, lex_scale and lex_coef do not match {n} features")


def head_from_sklearn(
    model: Any,
    mean: np.ndarray,
    scale: np.ndarray,
    *,
    threshold: float = 0.5,
    hash_idx: np.ndarray | None = None,
    hash_weight: float = 1.0,
    lex_mean: np.ndarray | None = None,
    lex_scale: np.ndarray | None = None,
    lex_weight: float = 1.0,
) -> LinearHead:
    """Convert a fitted sklearn LogisticRegression into a LinearHead. The model was fitted on the standardised
    encoder features, then, when `lex_mean` and `lex_scale` are given, the lexicon features standardised by
    them times `lex_weight`, then, when `hash_idx` is given, the hashed buckets `hash_idx` times `hash_weight`
    (those scalings are folded into the stored weights)."""
    coef = np.asarray(model.coef_, dtype=np.float64)
    n_dense = len(mean)
    head = LinearHead(
        classes=[c.item() if hasattr(c, "item") else c for c in model.classes_],
        mean=np.asarray(mean, dtype=np.float32),
        scale=np.asarray(scale, dtype=np.float32),
        coef=coef[:, :n_dense].astype(np.float32),
        intercept=np.asarray(model.intercept_, dtype=np.float32),
        threshold=threshold,
    )
    start = n_dense
    if lex_mean is not None and lex_scale is not None:
        n_lex = len(lex_mean)
        head.lex_mean = np.asarray(lex_mean, dtype=np.float32)
        head.lex_scale = np.asarray(lex_scale, dtype=np.float32)
        head.lex_coef = (coef[:, start : start + n_lex] * lex_weight).astype(np.float32)
        start += n_lex
    if hash_idx is not None and len(hash_idx):
        head.hash_idx = np.asarray(hash_idx, dtype=np.int32)
        # float16 as stored in heads.npz, so cross-validation measures exactly what ships
        head.hash_coef = (coef[:, start:] * hash_weight).astype(np.float16)
    return head
