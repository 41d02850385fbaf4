"""Understanding benchmark: cross-validated figures of each classifier, tagging macro-F1 on the airline
reasons from a catalogue file alone, and the throughput of `analyze` against a bare encoding.

    python bench/bench_analysis.py [DATA_DIR] [--skip-cv] [--skip-speed]

DATA_DIR defaults to ../shared/data; without it the benchmark says so and skips (exit 0). Figures:
- complaint: macro-F1, 5-fold stratified CV on complaints/train.csv (target >= 0.88 on held-out data);
- sentiment: recall averaged over the classes, 5-fold CV on tweeteval_val.csv, Sanders added to every
  training fold (target >= 0.66);
- spam: MCC, leave-one-video-out over the three videos, the other sets' posts added to every training fold
  as genuine comments as in training (target >= 0.92);
- tagging: macro-F1 of the top service id over the nine reasons of the airline development tweets, the
  tagger knowing the reasons only through bench/airline_catalog.yaml (target >= 0.50); reported for the
  half used to choose the tagger's weights and for the other, untouched half; then with each reason's
  examples drawn at random from the tuning half, with our catalogue and with a terser one
  (bench/airline_catalog_terse.yaml), for how much the figure owes to our catalogue's wording;
- speed: rows/s of the analysis pipeline (normalise, language, one encoder pass, hashed n-grams, three
  heads, tagging) and
  of a bare all-MiniLM-L6-v2 `SentenceTransformer.encode` of the same texts, and their ratio (target
  >= 100 rows/s and ratio <= 1.5); plus the `servicepulse analyze` command end to end, process start included.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data"
CATALOG = ROOT / "bench" / "airline_catalog.yaml"
TERSE_CATALOG = ROOT / "bench" / "airline_catalog_terse.yaml"


def classifiers(data: Path) -> None:
    import numpy as np

    from servicepulse.analysis.ml import datasets, training
    from servicepulse.analysis.ml.encoder import get_encoder

    encoder = get_encoder()

    def feats(d: datasets.Labelled) -> training.Features:
        return training.features(encoder, d.texts)

    comp = datasets.complaints(data)
    xc = feats(comp)
    c = training.cv_complaint(xc, np.asarray(comp.labels))
    print(
        f"complaint  macro-F1 {c['macro_f1']:.3f} (complaint-class F1 {c['complaint_f1']:.3f}; "
        f"{c['folds']}-fold CV, n={c['n']})  target 0.88"
    )
    tv, sanders = datasets.sentiment_tweeteval(data), datasets.sentiment_sanders(data)
    xt, xs = feats(tv), feats(sanders)
    s = training.cv_sentiment(xt, np.asarray(tv.labels), extra_x=xs, extra_y=np.asarray(sanders.labels))
    print(
        f"sentiment  macro-recall {s['macro_recall']:.3f} (accuracy {s['accuracy']:.3f}; {s['folds']}-fold CV on "
        f"TweetEval validation, Sanders in training folds)  target 0.66"
    )
    sp = datasets.spam(data)
    # as `servicepulse train` does: the other sets' posts join every training fold as genuine comments
    ham = training.Features.stack([xc, xt, xs])
    p = training.cv_spam(feats(sp), np.asarray(sp.labels), np.asarray(sp.groups), ham=ham)
    per = ", ".join(f"{k} {v:.3f}" for k, v in p["mcc_per_held_out_video"].items())
    print(
        f"spam       MCC {p['mcc']:.3f} (accuracy {p['accuracy']:.3f}; leave-one-video-out, other sets' posts "
        f"as genuine in training: {per})  target 0.92"
    )


def tagging(data: Path) -> None:
    import numpy as np
    from sklearn.metrics import f1_score

    from servicepulse.analysis.ml import datasets
    from servicepulse.analysis.ml.normalise import normalise
    from servicepulse.analysis.ml.pipeline import analyze_texts
    from servicepulse.analysis.ml.tagging import CatalogTagger
    from servicepulse.catalog.document import catalog_read_file

    records = catalog_read_file(CATALOG)
    examples = {normalise(e) for r in records for e in r["examples"]}
    reasons = datasets.airline_reasons(data)
    all_rows = sum(1 for _ in csv.DictReader((data / "airline" / "tweets.csv").open(encoding="utf-8")))
    position = {
        tid: i
        for i, tid in enumerate(
            r["tweet_id"] for r in csv.DictReader((data / "airline" / "tweets.csv").open(encoding="utf-8"))
        )
    }
    keep = [i for i, t in enumerate(reasons.texts) if normalise(t) not in examples]
    texts = [reasons.texts[i] for i in keep]
    gold = np.asarray([reasons.labels[i] for i in keep])
    first_half = np.asarray([position[reasons.groups[i]] < all_rows // 2 for i in keep])
    results = analyze_texts(texts, records, keep_embeddings=True)
    top = np.asarray([r.service_ids[0] if r.services else "" for r in results])
    labels = [r["id"] for r in records]

    def f1(mask: np.ndarray, predicted: np.ndarray = top) -> float:
        return float(f1_score(gold[mask], predicted[mask], labels=labels, average="macro"))

    untagged = float(np.mean(top == ""))
    print(
        f"tagging    macro-F1 {f1(np.ones(len(gold), bool)):.3f} over {len(gold)} airline complaints, 9 reasons "
        f"(tuning half {f1(first_half):.3f}, untouched half {f1(~first_half):.3f}; {untagged:.1%} untagged)  "
        "target 0.50"
    )
    # How much that owes to our catalogue's wording: each reason's three examples drawn at random from the
    # tuning half instead (five draws, the drawn posts left out of the scoring), with our descriptions and
    # aliases and with a terser catalogue written separately; same embeddings.
    embeddings = np.stack([r.embedding for r in results if r.embedding is not None])
    normalised = [normalise(t) for t in texts]
    for name, path in (("our", CATALOG), ("terse", TERSE_CATALOG)):
        rng = np.random.default_rng(0)
        halves = []
        for _ in range(5):
            drawn = {
                r["id"]: rng.choice(np.flatnonzero((gold == r["id"]) & first_half), 3, replace=False)
                for r in records
            }
            catalogue = [
                {**r, "examples": [texts[i] for i in drawn[r["id"]]]} for r in catalog_read_file(path)
            ]
            left = ~np.isin(normalised, [normalised[i] for idx in drawn.values() for i in idx])
            tags = CatalogTagger(catalogue).tag(normalised, embeddings)
            predicted = np.asarray([t[0][0] if t else "" for t in tags])
            halves.append((f1(left & first_half, predicted), f1(left & ~first_half, predicted)))
        tuning, untouched = np.asarray(halves).mean(axis=0)
        print(
            f"tagging    {name} catalogue, examples drawn at random from the tuning half (5 draws): "
            f"tuning half {tuning:.3f}, untouched half {untouched:.3f}"
        )


def speed(data: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from servicepulse.analysis.ml.encoder import default_model_path
    from servicepulse.analysis.ml.pipeline import analyze_texts
    from servicepulse.catalog.document import catalog_read_file

    with (data / "sentiment" / "tweeteval_val.csv").open(encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    records = catalog_read_file(CATALOG)
    bare = SentenceTransformer(str(default_model_path()), device="cpu", local_files_only=True)
    bare.encode(texts[:64])
    analyze_texts(texts[:64], records)

    def timed(fn) -> float:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    # alternate and keep each one's best run: the machine is shared, so noise only ever slows a run down
    t_bare, t_pipe = [], []
    for _ in range(2):
        t_bare.append(timed(lambda: bare.encode(texts, batch_size=64)))
        t_pipe.append(timed(lambda: analyze_texts(texts, records)))
    b, p = min(t_bare), min(t_pipe)
    n = len(texts)
    print(
        f"speed      pipeline {n / p:.0f} rows/s, bare all-MiniLM-L6-v2 encoding {n / b:.0f} rows/s, "
        f"ratio {p / b:.2f} ({n} tweets, torch threads {__import__('torch').get_num_threads()})  "
        "target >= 100 rows/s, ratio <= 1.5"
    )
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        with src.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text"])
            writer.writerows([t] for t in texts)
        cli = [
            str(Path(sys.executable).parent / "servicepulse"),
            "analyze",
            str(src),
            "--text-column",
            "text",
            "--output",
            str(out),
            "--catalog",
            str(CATALOG),
        ]
        start = time.perf_counter()
        subprocess.run(cli, check=True, stderr=subprocess.DEVNULL, env=dict(os.environ))
        elapsed = time.perf_counter() - start
    print(
        f"speed      `servicepulse analyze` end to end {n / elapsed:.0f} rows/s ({elapsed:.1f} s for {n} rows, "
        "process start and model loading included)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "complaints").is_dir():
        print(f"bench_analysis: skipped, development data not found at {data}")
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicepulse.config.settings.dev")
    if not args.skip_cv:
        classifiers(data)
    tagging(data)
    if not args.skip_speed:
        speed(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
