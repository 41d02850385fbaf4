"""Classifier heads over the shared encoder's features: multinomial logistic regressions stored as arrays.

`heads.npz` holds, per task T: `T.mean`, `T.scale` (standardisation of the features), `T.coef`
(classes x features) and `T.intercept`; `heads.json` holds the format version, the classes and decision
threshold of each task, the encoder they were trained on, the training data and the cross-validated figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from servicepulse.analysis.ml.artifacts import HEADS_FILE, META_FILE

FORMAT = "servicepulse-heads/1"
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

    def proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per feature row, columns in `classes` order."""
        z = ((features - self.mean) / self.scale) @ self.coef.T + self.intercept
        if z.shape[1] == 1:  # a binary sklearn model keeps one row of weights
            z = np.hstack([-z / 2, z / 2])
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


@dataclass
class Heads:
    heads: dict[str, LinearHead]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", ""))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        tasks: dict[str, Any] = {}
        for task, head in self.heads.items():
            arrays[f"{task}.mean"] = head.mean.astype(np.float32)
            arrays[f"{task}.scale"] = head.scale.astype(np.float32)
            arrays[f"{task}.coef"] = head.coef.astype(np.float32)
            arrays[f"{task}.intercept"] = head.intercept.astype(np.float32)
            tasks[task] = {"classes": head.classes, "threshold": head.threshold}
        np.savez_compressed(directory / HEADS_FILE, **arrays)  # type: ignore[arg-type]  # numpy stub: allow_pickle
        meta = dict(self.meta, format=FORMAT, tasks=tasks)
        (directory / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Heads:
        meta_path, arrays_path = directory / META_FILE, directory / HEADS_FILE
        if not meta_path.exists() or not arrays_path.exists():
            raise ArtifactError(f"no trained heads in {directory} (run `servicepulse train`)")
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != FORMAT:
            raise ArtifactError(f"{meta_path} has format {meta.get('format')!r}, expected {FORMAT!r}")
        heads: dict[str, LinearHead] = {}
        with np.load(arrays_path, allow_pickle=False) as data:
            for task, info in meta["tasks"].items():
                heads[task] = LinearHead(
                    classes=list(info["classes"]),
                    mean=data[f"{task}.mean"],
                    scale=data[f"{task}.scale"],
                    coef=data[f"{task}.coef"],
                    intercept=data[f"{task}.intercept"],
                    threshold=float(info.get("threshold", 0.5)),
                )
        missing = [t for t in TASKS if t not in heads]
        if missing:
            raise ArtifactError(f"{arrays_path} lacks heads for {', '.join(missing)}")
        return cls(heads=heads, meta=meta)


def head_from_sklearn(
    model: Any, mean: np.ndarray, scale: np.ndarray, *, threshold: float = 0.5
) -> LinearHead:
    """Convert a fitted sklearn LogisticRegression (on standardised features) into a LinearHead."""
    return LinearHead(
        classes=[c.item() if hasattr(c, "item") else c for c in model.classes_],
        mean=np.asarray(mean, dtype=np.float32),
        scale=np.asarray(scale, dtype=np.float32),
        coef=np.asarray(model.coef_, dtype=np.float32),
        intercept=np.asarray(model.intercept_, dtype=np.float32),
        threshold=threshold,
    )
