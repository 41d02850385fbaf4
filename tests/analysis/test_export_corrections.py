"""Export and restore keep who corrected each label and when: after moving servicepulse to a new database
(restore is how), the mentions explorer still says who corrected what, and the latest correction stays the
one in force."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from servicepulse.analysis.exporting import export_write, restore_file
from servicepulse.analysis.models import Correction, MentionAnalysis
from servicepulse.analysis.services import analysis_save, correction_create
from servicepulse.sources.models import Source
from tests.factories import MentionFactory

pytestmark = pytest.mark.django_db


def _export() -> str:
    buffer = io.StringIO()
    export_write(buffer)
    return buffer.getvalue()


def test_restored_corrections_keep_who_made_them_and_when(users: dict[str, Any], tmp_path: Path) -> None:
    post = MentionFactory(text="moodle is down")
    analysis_save(
        mention=post,
        complaint=True,
        complaint_score=0.9,
        sentiment="negative",
        sentiment_score=-0.7,
        spam=False,
        spam_score=0.01,
        services=[],
    )
    earlier = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
    correction_create(
        mention=post, field="complaint", value=False, user=users["responder"], created_at=earlier
    )
    correction_create(mention=post, field="complaint", value=True, user=users["admin"])
    exported = _export()
    corrections = json.loads(exported.splitlines()[1])["corrections"]
    assert [c["by"] for c in corrections] == ["responder", "admin"]
    assert corrections[0]["at"] == "2026-10-05T09:30:00+00:00"

    Source.objects.all().delete()
    path = tmp_path / "export.jsonl"
    path.write_text(exported)
    restore_file(path=path)

    restored = list(
        Correction.objects.order_by("created_at", "id").values_list("user__username", "created_at")
    )
    assert restored[0] == ("responder", earlier)
    assert restored[1][0] == "admin"
    assert MentionAnalysis.objects.get().complaint is True  # the latest still wins
    assert _export() == exported


def test_an_export_without_who_and_when_restores_its_corrections(tmp_path: Path) -> None:
    """Exports written before `at` and `by` (and a user name this database lacks) restore the labels."""
    line = {
        "id": "1",
        "text": "vpn down",
        "created_at": "2026-10-01T09:00:00+00:00",
        "source": "s",
        "source_kind": "import",
        "corrections": [
            {"field": "spam", "value": True},
            {"field": "complaint", "value": True, "by": "someone-gone", "at": "not a time"},
        ],
    }
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(line) + "\n")
    restore_file(path=path)
    assert sorted(Correction.objects.values_list("field", "user")) == [("complaint", None), ("spam", None)]
