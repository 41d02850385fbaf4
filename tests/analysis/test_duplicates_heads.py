"""Near-duplicates, the heads' array format, and the adapter merge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from servicepulse.analysis.ml.adapter import merge_adapter
from servicepulse.analysis.ml.duplicates import find_near_duplicates, jaccard, shingles
from servicepulse.analysis.ml.heads import FORMAT, ArtifactError, Heads, LinearHead, head_from_sklearn
from servicepulse.analysis.ml.lexical import LexicalSpec, hashed_ngrams

SPEC = LexicalSpec(n_features=64)


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


def _head(classes: list[object], n_features: int = 3, *, hashed: bool = True) -> LinearHead:
    rng = np.random.default_rng(0)
    k = 1 if len(classes) == 2 else len(classes)
    head = LinearHead(
        classes=classes,
        mean=rng.normal(size=n_features),
        scale=np.abs(rng.normal(size=n_features)) + 0.5,
        coef=rng.normal(size=(k, n_features)),
        intercept=rng.normal(size=k),
        threshold=0.4,
    )
    if hashed:
        head.hash_idx = np.array([1, 5, 17, 40, 63], dtype=np.int32)
        head.hash_coef = rng.normal(size=(k, 5)).astype(np.float16)
    return head


TEXTS = ["moodle down again", "thanks for fixing eduroam", "check out my channel", "", "vpn vpn vpn"]


def test_heads_round_trip_without_pickle(tmp_path: Path) -> None:
    heads = Heads(
        heads={
            "complaint": _head([0, 1]),
            "sentiment": _head(["negative", "neutral", "positive"]),
            "spam": _head([0, 1], hashed=False),
        },
        meta={"version": "t"},
        lexical=SPEC,
    )
    heads.save(tmp_path)
    loaded = Heads.load(tmp_path)
    assert loaded.lexical == SPEC
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    hashed = loaded.hashed(TEXTS)
    assert hashed is not None and hashed.shape == (5, 64)
    for task in ("complaint", "sentiment", "spam"):
        np.testing.assert_allclose(
            loaded.heads[task].proba(x, hashed), heads.heads[task].proba(x, hashed), rtol=1e-5
        )
        np.testing.assert_allclose(loaded.heads[task].proba(x, hashed).sum(axis=1), 1.0, rtol=1e-6)
    # the hashed weights change the scores; the spam head has none and ignores them
    assert not np.allclose(
        loaded.heads["complaint"].proba(x, hashed), loaded.heads["complaint"].proba(x, 0 * hashed)
    )
    np.testing.assert_allclose(loaded.heads["spam"].proba(x), loaded.heads["spam"].proba(x, hashed))
    assert loaded.heads["complaint"].threshold == pytest.approx(0.4)
    with np.load(tmp_path / "heads.npz", allow_pickle=False) as data:  # plain arrays only
        assert all(data[k].dtype != object for k in data.files)
        assert data["complaint.hash_coef"].dtype == np.float16 and "spam.hash_idx" not in data.files
    with pytest.raises(ValueError, match="needs the hashed n-gram features"):
        loaded.heads["complaint"].proba(x)


def test_head_with_hashed_block_matches_sklearn() -> None:
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    words = ["down", "again", "thanks", "great", "broken", "love", "vpn", "wifi"]
    texts = [" ".join(rng.choice(words, size=4)) for _ in range(80)]
    y = np.array([int(("down" in t or "broken" in t) and "thanks" not in t) for t in texts])
    dense = rng.normal(size=(80, 3))
    hashed = hashed_ngrams(texts, SPEC)
    used = np.unique(hashed.indices)
    design = sp.hstack([sp.csr_matrix(dense), hashed[:, used] * 4.0], format="csr")
    model = LogisticRegression(C=1.0).fit(design, y)
    head = head_from_sklearn(model, np.zeros(3), np.ones(3), hash_idx=used, hash_weight=4.0)
    np.testing.assert_allclose(head.proba(dense, hashed), model.predict_proba(design), atol=2e-3)


def test_lexicon_block_is_fitted_saved_and_loaded(tmp_path: Path) -> None:
    """The sentiment head reads VADER's scores as a third block: fitted through training.fit_head, saved,
    loaded, it scores as before saving, and asks for the block when it is missing."""
    from servicepulse.analysis.ml.lexicon import FEATURES, lexicon_features
    from servicepulse.analysis.ml.training import Features, fit_head

    rng = np.random.default_rng(4)
    good = ["great, thanks so much", "love the new wifi", "brilliant service, very happy"]
    bad = ["this is awful and broken", "terrible, hate it", "worst update ever, so angry"]
    texts = [str(rng.choice(good if i % 2 else bad)) for i in range(60)]
    y = np.array(["positive" if i % 2 else "negative" for i in range(60)])
    lexicon = lexicon_features(texts)
    assert lexicon.shape == (60, len(FEATURES))
    assert lexicon[1, FEATURES.index("compound")] > 0 > lexicon[0, FEATURES.index("compound")]
    x = Features(rng.normal(size=(60, 3)), hashed_ngrams(texts, SPEC), lexicon)
    head = fit_head(x, y, c=1.0, balanced=True, lexicon_weight=3.0)
    assert head.uses_lexicon and not head.uses_hashed
    # The dense block alone is noise: the lexicon carries the signal.
    assert (np.asarray(head.classes)[head.proba(x.dense, lexicon=lexicon).argmax(axis=1)] == y).mean() > 0.9
    Heads(
        heads={"complaint": _head([0, 1]), "sentiment": head, "spam": _head([0, 1])},
        meta={"version": "t"},
        lexical=SPEC,
    ).save(tmp_path)
    loaded = Heads.load(tmp_path)
    assert json.loads((tmp_path / "heads.json").read_text())["lexicon"]["kind"] == "vader"
    assert loaded.lexicon(texts) is not None
    np.testing.assert_allclose(
        loaded.heads["sentiment"].proba(x.dense, None, lexicon), head.proba(x.dense, None, lexicon), rtol=1e-5
    )
    with pytest.raises(ValueError, match="needs the lexicon features"):
        loaded.heads["sentiment"].proba(x.dense)
    # Heads that read no lexicon do not compute it.
    no_lexicon = Heads(heads={"spam": _head([0, 1], hashed=False)}, lexical=SPEC)
    assert no_lexicon.lexicon(texts) is None
    # A lexicon block heads.json does not describe is refused.
    meta = json.loads((tmp_path / "heads.json").read_text())
    meta["lexicon"] = {"kind": "afinn", "features": ["score"]}
    (tmp_path / "heads.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="unknown lexicon block"):
        Heads.load(tmp_path)


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
    Heads(heads={"complaint": _head([0, 1])}, meta={}, lexical=SPEC).save(tmp_path)
    with pytest.raises(ArtifactError, match="lacks heads"):
        Heads.load(tmp_path)
    meta = json.loads((tmp_path / "heads.json").read_text())
    assert meta["format"] == FORMAT == "servicepulse-heads/2"

    def load_with(**changes: object) -> None:
        (tmp_path / "heads.json").write_text(json.dumps(dict(meta, **changes)))
        Heads.load(tmp_path)

    with pytest.raises(ArtifactError, match=r"old format 'servicepulse-heads/1'.*retrain"):
        load_with(format="servicepulse-heads/1")
    with pytest.raises(ArtifactError, match="format"):
        load_with(format="something-else/9")
    with pytest.raises(ArtifactError, match="bad lexical spec"):
        load_with(lexical=dict(meta["lexical"], kind="char-ngrams"))
    with pytest.raises(ArtifactError, match="no lexical spec"):
        load_with(lexical=None)
    with pytest.raises(ArtifactError, match="not ascending within 8 buckets"):
        load_with(lexical=dict(meta["lexical"], n_features=8))  # the weights name bucket 63
    with pytest.raises(ValueError, match="no lexical spec"):
        Heads(heads={"complaint": _head([0, 1])}, meta={}).save(tmp_path / "other")


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
