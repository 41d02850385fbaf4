"""Experiment (not part of `make bench`): does fine-tuning the whole encoder beat the shipped frozen heads?

    python bench/experiment_finetune.py [DATA_DIR] [--task complaint|spam] [--epochs N] [--lr LR]
        [--top-layers N] [--seed S] [--folds K]

For the complaint task, on the same 5 stratified folds as `bench/bench_analysis.py` (for spam: leave one video
out, the other sets' posts not used), each training part fine-tunes a fresh copy of all-MiniLM-L6-v2 (all
weights, or with `--top-layers N` only the last N layers, the lower ones frozen but with their dropout on) with a
linear layer over the mean-pooled last layer (cross-entropy, balanced class weights, AdamW,
linear warm-up and decay), and the held-out part is scored with it. The shipped head (frozen encoder features,
hashed n-grams, `training.fit_head`) is fitted on the same training part, so the two are compared on the same
rows, and so is their average (what an ensemble would ship). Prints the figures; writes nothing. MODELS.md
reports what this measured, and how much a run varies with `--seed`. About 12 minutes for the complaints on
the 2-core machine when nothing else runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from servicepulse.analysis.ml import datasets, training  # noqa: E402
from servicepulse.analysis.ml.encoder import default_model_path, get_encoder  # noqa: E402
from servicepulse.analysis.ml.normalise import normalise  # noqa: E402


def finetune_proba(
    train_texts: list[str],
    train_y: np.ndarray,
    test_texts: list[str],
    *,
    epochs: int,
    lr: float,
    seed: int,
    top_layers: int = 0,
    max_length: int = 64,
    batch_size: int = 16,
) -> np.ndarray:
    """Fine-tune a fresh encoder on the training texts; the positive-class probability of each test text."""
    import torch
    from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

    torch.manual_seed(seed)
    path = str(default_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True)
    head = torch.nn.Linear(model.config.hidden_size, 2)
    if top_layers:
        # only the last `top_layers` transformer layers learn: what a branch after the shared lower layers
        # would cost at run time is those layers once more
        for p in model.parameters():
            p.requires_grad = False
        for layer in model.encoder.layer[-top_layers:]:
            for p in layer.parameters():
                p.requires_grad = True
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps = epochs * ((len(train_texts) + batch_size - 1) // batch_size)
    schedule = get_linear_schedule_with_warmup(optimiser, int(0.1 * steps), steps)
    counts = np.bincount(train_y, minlength=2)
    weights = torch.tensor(len(train_y) / (2 * counts), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)

    def pooled(texts: list[str]) -> torch.Tensor:
        batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        out = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(train_texts))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            logits = head(pooled([train_texts[i] for i in idx]))
            loss = loss_fn(logits, torch.tensor(train_y[idx], dtype=torch.long))
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(test_texts), 64):
            logits = head(pooled(test_texts[start : start + 64]))
            out.append(torch.softmax(logits, dim=-1)[:, 1].numpy())
    return np.concatenate(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--task", choices=("complaint", "spam"), default="complaint")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--folds", type=int, default=0, help="stop after this many folds (0: all)")
    parser.add_argument("--top-layers", type=int, default=0, help="fine-tune only the last N layers (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="fold k is fine-tuned with seed 1000 * SEED + k")
    args = parser.parse_args()
    if not (args.data / "complaints").is_dir():
        print(f"skipped: no development data at {args.data}")
        return 0
    from sklearn.metrics import f1_score, matthews_corrcoef
    from sklearn.model_selection import StratifiedKFold

    if args.task == "complaint":
        data = datasets.complaints(args.data)
        y = np.asarray(data.labels, dtype=int)
        splits = list(StratifiedKFold(training.FOLDS, shuffle=True, random_state=training.SEED).split(y, y))
        head_args = {
            "c": training.C_COMPLAINT,
            "balanced": True,
            "hash_weight": training.HASH_WEIGHT["complaint"],
        }
        metric = lambda t, p: f1_score(t, p, average="macro")  # noqa: E731
    else:
        data = datasets.spam(args.data)
        y = np.asarray(data.labels, dtype=int)
        groups = np.asarray(data.groups)
        splits = [(np.where(groups != g)[0], np.where(groups == g)[0]) for g in sorted(set(groups))]
        head_args = {"c": training.C_SPAM, "balanced": False, "hash_weight": training.HASH_WEIGHT["spam"]}
        metric = matthews_corrcoef
    if args.folds:
        splits = splits[: args.folds]
    texts = [normalise(t) for t in data.texts]
    x = training.features(get_encoder(), data.texts)
    rows = np.concatenate([test for _, test in splits])
    p_head, p_ft = np.zeros(len(y)), np.zeros(len(y))
    for k, (train, test) in enumerate(splits):
        started = time.monotonic()
        head = training.fit_head(x[train], y[train], **head_args)  # type: ignore[arg-type]
        p_head[test] = training._positive_proba(head, x[test])
        p_ft[test] = finetune_proba(
            [texts[i] for i in train],
            y[train],
            [texts[i] for i in test],
            epochs=args.epochs,
            lr=args.lr,
            seed=1000 * args.seed + k,
        )
        print(
            f"fold {k + 1}: head {metric(y[test], p_head[test] >= 0.5):.4f}  fine-tuned "
            f"{metric(y[test], p_ft[test] >= 0.5):.4f}  average "
            f"{metric(y[test], (p_head[test] + p_ft[test]) / 2 >= 0.5):.4f}  ({time.monotonic() - started:.0f} s)",
            flush=True,
        )
    yt = y[rows]
    print(
        f"{args.task}, {len(splits)} folds, epochs {args.epochs}, lr {args.lr}, top layers {args.top_layers or 'all'}:"
    )
    print(f"  shipped head        {metric(yt, p_head[rows] >= 0.5):.4f}")
    print(f"  fine-tuned encoder  {metric(yt, p_ft[rows] >= 0.5):.4f}")
    for w in (0.3, 0.5, 0.7):
        blend = (1 - w) * p_head[rows] + w * p_ft[rows]
        print(f"  average, fine-tuned weight {w}: {metric(yt, blend >= 0.5):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
