"""Training the classifier heads on the frozen shared encoder and the hashed n-grams, and cross-validating them.

Everything takes the data directory as an argument (normally `../shared/data`); analysts' corrections come
in as extra labelled texts. `train_heads` writes `heads.npz` + `heads.json` (format in heads.py, MODELS.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from servicepulse.analysis.ml import datasets
from servicepulse.analysis.ml.encoder import FEATURE_LAYERS, Encoder, get_encoder
from servicepulse.analysis.ml.heads import Heads, LinearHead, head_from_sklearn
from servicepulse.analysis.ml.lexical import LexicalSpec, hashed_ngrams
from servicepulse.analysis.ml.lexicon import lexicon_features
from servicepulse.analysis.ml.normalise import normalise

# Regularisation chosen by cross-validation on the development data (MODELS.md has the figures). C applies
# to the standardised encoder block; the hashed n-gram block (unit-length rows) is multiplied by HASH_WEIGHT,
# which amounts to a C of C * HASH_WEIGHT**2 for its weights.
C_COMPLAINT = 0.008
C_SENTIMENT = 0.002
C_SPAM = 0.02
HASH_WEIGHT = {"complaint": 30.0, "sentiment": 20.0, "spam": 20.0}
# The lexicon block (VADER's four scores, standardised) times this weight; only the sentiment head reads it
# (complaint and spam gained nothing, MODELS.md). 10 is what an inner CV chose in every fold.
LEXICON_WEIGHT = {"complaint": 0.0, "sentiment": 10.0, "spam": 0.0}
LEXICAL = LexicalSpec(ngram_min=1, ngram_max=2, n_features=2**16)
CORRECTION_WEIGHT = 2.0  # an analyst's label on our own posts counts more than a public-dataset row
SANDERS_WEIGHT = 0.1  # with the VADER block, more Sanders tweets pull the head off TweetEval (MODELS.md)
# The spam videos' genuine comments are all about songs: alone, they teach the head that anything else
# (a complaint about the VLE) is spam. The other sets' posts are added as genuine (not spam) examples.
SPAM_HAM_WEIGHT = 0.1
FOLDS = 5
SEED = 0


@dataclass(frozen=True)
class LabelledText:
    """A labelled text from outside the public data (an analyst's correction): task is complaint,
    sentiment or spam; label 0/1 or a sentiment class."""

    text: str
    task: str
    label: Any


Progress = Callable[[str], None]
# Encoding progress: (texts encoded so far, texts to encode), for a progress bar.
EncodingProgress = Callable[[int, int], None]
ENCODE_CHUNK = 256  # texts per encoder call, the unit of encoding progress (as the pipeline's batches)


@dataclass(frozen=True)
class Features:
    """What the heads read of a set of texts: the encoder features (dense, one row per text), the hashed
    n-grams (sparse, same rows) and the lexicon features (dense, same rows)."""

    dense: np.ndarray
    hashed: sp.csr_matrix
    lexicon: np.ndarray

    def __len__(self) -> int:
        return self.dense.shape[0]

    def __getitem__(self, rows: np.ndarray) -> Features:
        return Features(self.dense[rows], sp.csr_matrix(self.hashed[rows]), self.lexicon[rows])

    @staticmethod
    def stack(parts: Sequence[Features]) -> Features:
        return Features(
            np.vstack([p.dense for p in parts]),
            sp.csr_matrix(sp.vstack([p.hashed for p in parts])),
            np.vstack([p.lexicon for p in parts]),
        )


def features(
    encoder: Encoder,
    texts: Sequence[str],
    spec: LexicalSpec = LEXICAL,
    *,
    on_encoded: Callable[[int], None] | None = None,
) -> Features:
    """The heads' features of raw `texts` (normalised first): one encoder pass, the hashed n-grams and the
    lexicon scores. `on_encoded(n)` is called after each chunk of n texts is encoded."""
    normalised = [normalise(t) for t in texts]
    chunks = [normalised[i : i + ENCODE_CHUNK] for i in range(0, len(normalised), ENCODE_CHUNK)] or [[]]
    dense = []
    for chunk in chunks:
        dense.append(encoder.encode(chunk).features)
        if on_encoded is not None:
            on_encoded(len(chunk))
    return Features(np.vstack(dense), hashed_ngrams(normalised, spec), lexicon_features(normalised))


def fit_head(
    x: Features,
    y: Sequence[Any] | np.ndarray,
    *,
    c: float,
    balanced: bool,
    hash_weight: float = 0.0,
    lexicon_weight: float = 0.0,
    sample_weight: np.ndarray | None = None,
    threshold: float = 0.5,
) -> LinearHead:
    """Standardise the encoder features and fit a (multinomial) logistic regression on them, on the
    standardised lexicon features times `lexicon_weight` when it is > 0, and, when `hash_weight` > 0, on the
    hashed buckets that occur in `x` scaled by `hash_weight`."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    mean = x.dense.mean(axis=0)
    scale = x.dense.std(axis=0)
    scale[scale < 1e-6] = 1.0
    design: np.ndarray | sp.csr_matrix = (x.dense - mean) / scale
    lex_mean = lex_scale = None
    if lexicon_weight > 0:
        lex_mean = x.lexicon.mean(axis=0)
        lex_scale = x.lexicon.std(axis=0)
        lex_scale[lex_scale < 1e-6] = 1.0
        design = np.hstack([design, (x.lexicon - lex_mean) / lex_scale * lexicon_weight])
    used: np.ndarray | None = None
    if hash_weight > 0:
        # Only the buckets seen in training can get a weight (L2 keeps the others at zero): fit on those.
        used = np.unique(x.hashed.indices)
        design = sp.hstack([sp.csr_matrix(design), x.hashed[:, used] * hash_weight], format="csr")
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced" if balanced else None)
    # lbfgs makes many tiny BLAS calls: with threaded BLAS on a busy 2-core machine they cost 5-20x more.
    with threadpool_limits(limits=1, user_api="blas"):
        model.fit(design, np.asarray(y), sample_weight=sample_weight)
    return head_from_sklearn(
        model,
        mean,
        scale,
        threshold=threshold,
        hash_idx=used,
        hash_weight=hash_weight,
        lex_mean=lex_mean,
        lex_scale=lex_scale,
        lex_weight=lexicon_weight,
    )


def _proba(head: LinearHead, x: Features) -> np.ndarray:
    return head.proba(x.dense, x.hashed, x.lexicon)


def _positive_proba(head: LinearHead, x: Features) -> np.ndarray:
    return _proba(head, x)[:, head.classes.index(1)]


def cv_complaint(x: Features, y: np.ndarray, *, folds: int = FOLDS) -> dict[str, float]:
    """Stratified k-fold macro-F1 (and complaint-class F1) at the 0.5 threshold, plus the best threshold."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    proba = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(x.dense, y):
        head = fit_head(
            x[train], y[train], c=C_COMPLAINT, balanced=True, hash_weight=HASH_WEIGHT["complaint"]
        )
        proba[test] = _positive_proba(head, x[test])
    grid = np.round(np.arange(0.3, 0.71, 0.02), 2)
    scores = [f1_score(y, proba >= t, average="macro") for t in grid]
    return {
        "macro_f1": round(float(f1_score(y, proba >= 0.5, average="macro")), 4),
        "complaint_f1": round(float(f1_score(y, proba >= 0.5)), 4),
        "best_threshold": float(grid[int(np.argmax(scores))]),
        "macro_f1_at_best_threshold": round(float(max(scores)), 4),
        "folds": folds,
        "n": len(y),
    }


def cv_sentiment(
    x: Features,
    y: np.ndarray,
    *,
    extra_x: Features | None = None,
    extra_y: np.ndarray | None = None,
    folds: int = FOLDS,
) -> dict[str, float]:
    """Recall averaged over the three classes on TweetEval folds; extra data (e.g. Sanders) is added to every
    training fold and never tested on."""
    from sklearn.metrics import accuracy_score, recall_score
    from sklearn.model_selection import StratifiedKFold

    pred = np.empty(len(y), dtype=object)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(x.dense, y):
        xs, ys, ws = [x[train]], [y[train]], [np.ones(len(train))]
        if extra_x is not None and extra_y is not None and len(extra_y):
            xs.append(extra_x)
            ys.append(extra_y)
            ws.append(np.full(len(extra_y), SANDERS_WEIGHT))
        head = fit_head(
            Features.stack(xs),
            np.concatenate(ys),
            c=C_SENTIMENT,
            balanced=True,
            hash_weight=HASH_WEIGHT["sentiment"],
            lexicon_weight=LEXICON_WEIGHT["sentiment"],
            sample_weight=np.concatenate(ws),
        )
        pred[test] = np.asarray(head.classes, dtype=object)[_proba(head, x[test]).argmax(axis=1)]
    return {
        "macro_recall": round(float(recall_score(y, pred.astype(str), average="macro")), 4),
        "accuracy": round(float(accuracy_score(y, pred.astype(str))), 4),
        "folds": folds,
        "n": len(y),
    }


def _with_ham(x: Features, y: np.ndarray, ham: Features | None) -> tuple[Features, np.ndarray, np.ndarray]:
    if ham is None or not len(ham):
        return x, y, np.ones(len(y))
    return (
        Features.stack([x, ham]),
        np.r_[y, np.zeros(len(ham), dtype=y.dtype)],
        np.r_[np.ones(len(y)), np.full(len(ham), SPAM_HAM_WEIGHT)],
    )


def cv_spam(x: Features, y: np.ndarray, groups: np.ndarray, *, ham: Features | None = None) -> dict[str, Any]:
    """Leave-one-video-out: train on the other videos (plus `ham`, genuine posts from other sets), test on the
    held-out video; MCC over all predictions."""
    from sklearn.metrics import accuracy_score, matthews_corrcoef

    pred = np.zeros(len(y), dtype=int)
    per_video: dict[str, float] = {}
    for video in sorted(set(groups)):
        test = groups == video
        xt, yt, wt = _with_ham(x[~test], y[~test], ham)
        head = fit_head(xt, yt, c=C_SPAM, balanced=False, hash_weight=HASH_WEIGHT["spam"], sample_weight=wt)
        pred[test] = (_positive_proba(head, x[test]) >= 0.5).astype(int)
        per_video[str(video)] = round(float(matthews_corrcoef(y[test], pred[test])), 4)
    return {
        "mcc": round(float(matthews_corrcoef(y, pred)), 4),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "mcc_per_held_out_video": per_video,
        "n": len(y),
    }


def _corrections_for(task: str, corrections: Sequence[LabelledText]) -> tuple[list[str], list[Any]]:
    rows = [c for c in corrections if c.task == task]
    return [c.text for c in rows], [c.label for c in rows]


def train_heads(
    data_dir: Path | None,
    *,
    out_dir: Path,
    corrections: Sequence[LabelledText] = (),
    evaluate: bool = True,
    use_sanders: bool = True,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    encoding_progress: EncodingProgress | None = None,
) -> Heads:
    """Fit the complaint, sentiment and spam heads on the development data (and corrections), cross-validate
    them when `evaluate`, and write the artifacts to `out_dir`. `data_dir=None` keeps the committed heads'
    public-data training impossible, so it is required unless only corrections are wanted (not supported).
    `progress` gets a message per step; `encoding_progress` follows the encoding, the longest one."""
    if data_dir is None or not data_dir.is_dir():
        raise datasets.DataMissing(f"development data directory not found: {data_dir}")
    say = progress or (lambda _msg: None)
    encoder = encoder or get_encoder(adapter=True)

    say("reading data")
    comp = datasets.complaints(data_dir)
    tweeteval = datasets.sentiment_tweeteval(data_dir)
    sanders = datasets.sentiment_sanders(data_dir) if use_sanders else datasets.Labelled()
    spam = datasets.spam(data_dir)

    total = len(comp) + len(tweeteval) + len(sanders) + len(spam)
    say(f"encoding {total} texts")
    encoded = 0

    def on_encoded(n: int) -> None:
        nonlocal encoded
        encoded += n
        if encoding_progress is not None:
            encoding_progress(encoded, total)

    xc = features(encoder, comp.texts, on_encoded=on_encoded)
    xt = features(encoder, tweeteval.texts, on_encoded=on_encoded)
    xs = features(encoder, sanders.texts, on_encoded=on_encoded)
    xp = features(encoder, spam.texts, on_encoded=on_encoded)
    yc, yt, ys, yp = (np.asarray(d.labels) for d in (comp, tweeteval, sanders, spam))

    figures: dict[str, Any] = {}
    if evaluate:
        say("cross-validating complaint")
        figures["complaint"] = cv_complaint(xc, yc)
        say("cross-validating sentiment")
        figures["sentiment"] = cv_sentiment(xt, yt, extra_x=xs, extra_y=ys)
        say("cross-validating spam (leave one video out)")
        figures["spam"] = cv_spam(xp, yp, np.asarray(spam.groups), ham=Features.stack([xc, xt, xs]))

    say("fitting heads on all data")
    heads: dict[str, LinearHead] = {}
    n_corr: dict[str, int] = {}
    for task, x, y, base_weight, c, balanced in (
        ("complaint", xc, yc, np.ones(len(yc)), C_COMPLAINT, True),
        (
            "sentiment",
            Features.stack([xt, xs]),
            np.concatenate([yt, ys]),
            np.r_[np.ones(len(yt)), np.full(len(ys), SANDERS_WEIGHT)],
            C_SENTIMENT,
            True,
        ),
        ("spam", *_with_ham(xp, yp, Features.stack([xc, xt, xs])), C_SPAM, False),
    ):
        texts, labels = _corrections_for(task, corrections)
        n_corr[task] = len(texts)
        weight = base_weight
        if texts:
            x = Features.stack([x, features(encoder, texts)])
            y = np.concatenate([y.astype(object), np.asarray(labels, dtype=object)]).astype(y.dtype)
            weight = np.r_[weight, np.full(len(texts), CORRECTION_WEIGHT)]
        heads[task] = fit_head(
            x,
            y,
            c=c,
            balanced=balanced,
            hash_weight=HASH_WEIGHT[task],
            lexicon_weight=LEXICON_WEIGHT[task],
            sample_weight=weight,
        )

    meta = {
        "version": dt.datetime.now(dt.UTC).strftime("heads-%Y%m%d%H%M%S"),
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "encoder": {
            "model": encoder.name,
            "feature_layers": list(FEATURE_LAYERS),
            "pooling": "mean",
            "dimension": encoder.dimension,
        },
        "training_data": {
            "complaint": f"complaints/train.csv ({len(comp)} rows)",
            "sentiment": f"sentiment/tweeteval_val.csv ({len(tweeteval)})"
            + (
                f" + sentiment/sanders_tech.csv ({len(sanders)}, weight {SANDERS_WEIGHT})"
                if len(sanders)
                else ""
            ),
            "spam": f"spam/*.csv ({len(spam)}) + the other sets' posts as not spam (weight {SPAM_HAM_WEIGHT})",
            "corrections": n_corr,
        },
        "hyperparameters": {
            "C_complaint": C_COMPLAINT,
            "C_sentiment": C_SENTIMENT,
            "C_spam": C_SPAM,
            "hash_weight": HASH_WEIGHT,
            "lexicon_weight": LEXICON_WEIGHT,
            "spam_ham_weight": SPAM_HAM_WEIGHT,
        },
        "cross_validation": figures,
    }
    result = Heads(heads=heads, meta=meta, lexical=LEXICAL)
    result.save(out_dir)
    say(f"wrote {out_dir}")
    return result
