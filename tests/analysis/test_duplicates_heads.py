"""Near-duplicates, the heads' array format, and the adapter merge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from servicepulse.analysis.ml.adapter import merge_adapter
from servicepulse.analysis.ml.duplicates import find_near_duplicates, jaccard, shingles
from servicepulse.analysis.ml.heads import FORMAT, ArtifactError, Heads, LinearHead, head_from_sklearn


def test_near_duplicates_by_shingles_within_and_across_batches() -> None:
    earlier = ["moodle is down again and my essay is due at midnight"]
    texts = [
        "Moodle is down again and my essay is due at midnight!!",
        "RT @user: moodle is down again and my essay is due at midnight",
        "the library wifi is fine today, thanks",
        "the library wifi is fine today, thanks!",
        "ok",
        "ok",
    ]
    assert find_near_duplicates(texts, earlier_texts=earlier) == [0, 0, None, 3, None, None]
    assert jaccard(shingles("abc"), frozenset()) == 0.0


def test_near_duplicates_by_embedding() -> None:
    emb = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]], dtype=np.float32)
    texts = ["printer jammed on floor two", "floor two printer is jammed", "completely different post here"]
    assert find_near_duplicates(texts, emb) == [None, 0, None]


def _head(classes: list[object], n_features: int = 3) -> LinearHead:
    rng = np.random.default_rng(0)
    k = 1 if len(classes) == 2 else len(classes)
    return LinearHead(
        classes=classes,
        mean=rng.normal(size=n_features),
        scale=np.abs(rng.normal(size=n_features)) + 0.5,
        coef=rng.normal(size=(k, n_features)),
        intercept=rng.normal(size=k),
        threshold=0.4,
    )


def test_heads_round_trip_without_pickle(tmp_path: Path) -> None:
    heads = Heads(
        heads={
            "complaint": _head([0, 1]),
            "sentiment": _head(["negative", "neutral", "positive"]),
            "spam": _head([0, 1]),
        },
        meta={"version": "t"},
    )
    heads.save(tmp_path)
    loaded = Heads.load(tmp_path)
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    for task in ("complaint", "sentiment", "spam"):
        np.testing.assert_allclose(loaded.heads[task].proba(x), heads.heads[task].proba(x), rtol=1e-5)
        np.testing.assert_allclose(loaded.heads[task].proba(x).sum(axis=1), 1.0, rtol=1e-6)
    assert loaded.heads["complaint"].threshold == pytest.approx(0.4)
    with np.load(tmp_path / "heads.npz", allow_pickle=False) as data:  # plain arrays only
        assert all(data[k].dtype != object for k in data.files)


def test_binary_head_matches_sklearn() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 4))
    y = (x[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(int)
    model = LogisticRegression().fit(x, y)
    head = head_from_sklearn(model, np.zeros(4), np.ones(4))
    np.testing.assert_allclose(head.proba(x), model.predict_proba(x), rtol=1e-4, atol=1e-6)


def test_heads_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no trained heads"):
        Heads.load(tmp_path)
    Heads(heads={"complaint": _head([0, 1])}, meta={}).save(tmp_path)
    with pytest.raises(ArtifactError, match="lacks heads"):
        Heads.load(tmp_path)
    meta = json.loads((tmp_path / "heads.json").read_text())
    assert meta["format"] == FORMAT
    meta["format"] = "something-else/9"
    (tmp_path / "heads.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="format"):
        Heads.load(tmp_path)


def test_adapter_merge_adds_low_rank_delta(tmp_path: Path) -> None:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    before = model[0].weight.detach().clone()
    a = np.ones((2, 4), dtype=np.float32)
    b = np.full((3, 2), 0.5, dtype=np.float32)
    np.savez(tmp_path / "ad.npz", **{"0::A": a, "0::B": b, "::scale": np.array(2.0, dtype=np.float32)})
    assert merge_adapter(model, tmp_path / "ad.npz") == 1
    np.testing.assert_allclose(model[0].weight.detach().numpy(), before.numpy() + 2.0 * (b @ a))
    np.savez(tmp_path / "bad.npz", **{"9::A": a, "9::B": b, "::scale": np.array(1.0, dtype=np.float32)})
    with pytest.raises(ValueError, match="does not have"):
        merge_adapter(model, tmp_path / "bad.npz")
