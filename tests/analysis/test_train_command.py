"""`servicepulse train`: heads retrained from a data directory plus the analysts' corrections in the
database, written as loadable artifacts; a missing data directory is a clear error."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from servicepulse.analysis.ml.heads import Heads
from servicepulse.analysis.ml.pipeline import analyze_texts
from servicepulse.analysis.services import correction_create
from tests.factories import MentionFactory

COMPLAINTS = [
    "my order never arrived and nobody answers",
    "the app crashes every time, fix it",
    "refund still missing",
]
OTHERS = ["lovely weather today", "watching the match tonight", "new phone arrived, so happy"]


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _tiny_data(root: Path) -> Path:
    _csv(
        root / "complaints" / "train.csv",
        ["id", "text", "complaint", "domain"],
        [[i, t, 1, "x"] for i, t in enumerate(COMPLAINTS)]
        + [[9 + i, t, 0, "y"] for i, t in enumerate(OTHERS)],
    )
    _csv(
        root / "sentiment" / "tweeteval_val.csv",
        ["text", "sentiment"],
        [["awful service", "negative"], ["it is tuesday", "neutral"], ["love it", "positive"]] * 2,
    )
    _csv(
        root / "sentiment" / "sanders_tech.csv",
        ["topic", "text", "sentiment"],
        [
            ["apple", "hate the new update", "negative"],
            ["apple", "new update out", "neutral"],
            ["apple", "great update", "positive"],
        ],
    )
    for video in ("v1", "v2"):
        _csv(
            root / "spam" / f"{video}.csv",
            ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"],
            [
                ["a", "x", "", "subscribe to my channel http", 1],
                ["b", "y", "", "great song, brings back memories", 0],
            ],
        )
    return root


@pytest.mark.django_db
def test_train_uses_corrections_and_writes_artifacts(tmp_path: Path, encoder: Any) -> None:
    data = _tiny_data(tmp_path / "data")
    text = "the shuttle bus timetable changed again"
    mention = MentionFactory(text=text)
    correction_create(mention=mention, field="complaint", value=True)
    correction_create(mention=mention, field="complaint", value=False)  # the latest label wins
    correction_create(mention=mention, field="sentiment", value="negative")
    correction_create(mention=MentionFactory(text="free followers at my site"), field="spam", value=True)
    # A blog moderator's decision is a spam label too.
    from servicepulse.blog.models import ModerationDecision

    ModerationDecision.objects.create(
        decision="spam",
        is_spam=True,
        previous_status="pending",
        kind="comment",
        text="cheap essays at my site",
    )
    out = tmp_path / "heads"
    call_command("train", "--data", str(data), "--output", str(out), "--no-eval")
    meta = json.loads((out / "heads.json").read_text())
    assert meta["training_data"]["corrections"] == {"complaint": 1, "sentiment": 1, "spam": 2}
    heads = Heads.load(out)
    assert set(heads.heads) == {"complaint", "sentiment", "spam"}
    result = analyze_texts([text], heads=heads)[0]
    assert 0.0 <= result.complaint_score <= 1.0


@pytest.mark.django_db
def test_train_without_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="development data directory not found"):
        call_command(
            "train", "--data", str(tmp_path / "missing"), "--output", str(tmp_path / "o"), "--no-eval"
        )
