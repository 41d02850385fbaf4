"""Putting a corrected label back to the models' reading: the label and the service tags follow at once and
stay so after re-analysis, the corrections stay on record with who put them back and when, a later correction
is in force again, `servicepulse train` stops learning from what was put back, and export/restore carry it."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from servicepulse.analysis.exporting import export_write, restore_file
from servicepulse.analysis.models import Correction, MentionAnalysis, ServiceTag
from servicepulse.analysis.selectors import corrections_latest, corrections_reverted
from servicepulse.analysis.services import (
    CorrectionError,
    analysis_save,
    correction_create,
    correction_revert,
)
from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.models import Source
from tests.factories import MentionFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def _read(mention: Mention) -> MentionAnalysis:
    """The models read it as a VLE complaint, negative, not spam."""
    return analysis_save(
        mention=mention,
        complaint=True,
        complaint_score=0.9,
        sentiment="negative",
        sentiment_score=-0.8,
        spam=False,
        spam_score=0.01,
        services=[("vle", 0.8)],
        model_version="t1",
    )


def _labels(mention: Mention) -> tuple[bool, str, bool, list[str], list[str]]:
    analysis = MentionAnalysis.objects.get(mention=mention)
    return (analysis.complaint, analysis.sentiment, analysis.spam, analysis.service_ids, analysis.corrected)


def test_a_reverted_label_is_the_models_again_and_the_correction_stays_on_record(
    users: dict[str, Any],
) -> None:
    ServiceFactory(id="vle")
    ServiceFactory(id="printing")
    post = MentionFactory(text="moodle is down")
    _read(post)
    correction_create(mention=post, field="complaint", value=False, user=users["responder"])
    correction_create(mention=post, field="complaint", value=False, user=users["admin"])  # twice over
    correction_create(mention=post, field="services", value=["printing"], user=users["responder"])
    assert _labels(post) == (False, "negative", False, ["printing"], ["complaint", "services"])

    when = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert correction_revert(mention=post, field="complaint", user=users["admin"], reverted_at=when) == 2
    assert _labels(post) == (True, "negative", False, ["printing"], ["services"])
    assert list(ServiceTag.objects.values_list("service_id", "complaint")) == [("printing", True)]

    # Nothing deleted: both complaint corrections are kept, marked with who put the label back and when.
    kept = Correction.objects.filter(field="complaint").order_by("id")
    assert [(c.user, c.reverted_by, c.reverted_at) for c in kept] == [
        (users["responder"], users["admin"], when),
        (users["admin"], users["admin"], when),
    ]
    assert set(corrections_latest(mention_ids=[post.pk])[post.pk]) == {"services"}
    reverted = corrections_reverted(mention_ids=[post.pk])[post.pk]
    assert set(reverted) == {"complaint"} and reverted["complaint"].reverted_by == users["admin"]

    # The services back to the models' reading: the tag with the models' confidence, not the analyst's 1.0.
    assert correction_revert(mention=post, field="services", user=users["responder"]) == 1
    assert _labels(post) == (True, "negative", False, ["vle"], [])
    assert list(ServiceTag.objects.values_list("service_id", "confidence", "complaint")) == [
        ("vle", 0.8, True)
    ]

    _read(post)  # the models run again: what was put back stays put back
    assert _labels(post) == (True, "negative", False, ["vle"], [])

    # A later correction is in force again, and the field is no longer listed as put back.
    correction_create(mention=post, field="complaint", value=False, user=users["responder"])
    assert _labels(post)[0] is False
    assert set(corrections_reverted(mention_ids=[post.pk])[post.pk]) == {"services"}


def test_reverting_what_is_not_corrected_changes_nothing_and_unknown_fields_are_refused() -> None:
    post = MentionFactory()
    assert correction_revert(mention=post, field="spam") == 0
    assert not MentionAnalysis.objects.filter(mention=post).exists()  # no empty analysis row made for it
    _read(post)
    correction_create(mention=post, field="sentiment", value="positive")
    assert correction_revert(mention=post, field="spam") == 0
    assert _labels(post)[1] == "positive"
    with pytest.raises(CorrectionError):
        correction_revert(mention=post, field="language")
    assert correction_revert(mention=post, field="sentiment") == 1
    assert correction_revert(mention=post, field="sentiment") == 0  # a second click: nothing left to put back
    reverted = Correction.objects.get()
    assert reverted.reverted_at is not None and reverted.reverted_by is None  # no account: kept as nobody


def _said(tmp_path: Path) -> str:
    """`train`'s stderr up to where it looks for the (here missing) development data."""
    err = StringIO()
    with pytest.raises(CommandError, match="development data directory not found"):
        call_command("train", "--data", str(tmp_path / "none"), "--output", str(tmp_path / "o"), stderr=err)
    return err.getvalue().strip()


def test_train_no_longer_learns_from_a_reverted_correction(tmp_path: Path) -> None:
    ServiceFactory(id="vle")
    post = MentionFactory(text="moodle logged me out again")
    correction_create(mention=post, field="complaint", value=True)
    correction_create(mention=post, field="sentiment", value="negative")
    correction_create(mention=post, field="services", value=["vle"])
    assert _said(tmp_path) == (
        "training with 2 analyst correction(s) (complaint 1, sentiment 1) and 0 blog moderation decision(s) "
        "from the database; 1 post(s) with corrected services are not trained on: services come from the "
        "catalogue (add aliases or examples there)"
    )

    correction_revert(mention=post, field="complaint")
    correction_revert(mention=post, field="services")
    assert _said(tmp_path) == (
        "training with 1 analyst correction(s) (sentiment 1) and 0 blog moderation decision(s) from the database"
    )

    correction_create(mention=post, field="complaint", value=False)  # corrected again after the revert
    assert _said(tmp_path).startswith("training with 2 analyst correction(s) (complaint 1, sentiment 1)")


def _export() -> str:
    buffer = io.StringIO()
    export_write(buffer)
    return buffer.getvalue()


def test_export_and_restore_keep_a_reverted_correction_on_record_and_out_of_force(
    users: dict[str, Any], tmp_path: Path
) -> None:
    ServiceFactory(id="vle")
    post = MentionFactory(text="moodle is down")
    _read(post)
    correction_create(mention=post, field="complaint", value=False, user=users["responder"])
    when = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    correction_revert(mention=post, field="complaint", user=users["admin"], reverted_at=when)
    correction_create(mention=post, field="sentiment", value="neutral", user=users["responder"])
    exported = _export()
    corrections = json.loads(exported.splitlines()[1])["corrections"]
    assert corrections[0]["reverted_at"] == "2026-11-20T10:00:00+00:00"
    assert corrections[0]["reverted_by"] == "admin"
    assert "reverted_at" not in corrections[1]  # in force: written as before reverts existed

    Source.objects.all().delete()
    path = tmp_path / "export.jsonl"
    path.write_text(exported)
    restore_file(path=path)
    restored = Mention.objects.get()
    assert _labels(restored) == (True, "neutral", False, ["vle"], ["sentiment"])  # complaint: the models'
    assert Correction.objects.get(field="complaint").reverted_by == users["admin"]
    assert _export() == exported


def test_a_reverted_correction_with_an_unreadable_time_goes_to_quarantine_not_into_force(
    tmp_path: Path,
) -> None:
    line = {
        "id": "1",
        "text": "vpn down",
        "created_at": "2026-10-01T09:00:00+00:00",
        "source": "s",
        "source_kind": "import",
        "corrections": [
            {"field": "spam", "value": True, "reverted_at": "yesterday", "reverted_by": "admin"},
            {"field": "complaint", "value": True, "reverted_at": "2026-10-02T09:00:00+00:00"},
        ],
    }
    path = tmp_path / "edited.jsonl"
    path.write_text(json.dumps(line) + "\n")
    report = restore_file(path=path)
    assert report.parts_quarantined == 1
    assert "reverted_at is not an ISO 8601 time" in Quarantine.objects.get().reason
    complaint = Correction.objects.get()
    assert (complaint.field, complaint.reverted_by) == ("complaint", None)
    assert complaint.reverted_at == datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
    assert MentionAnalysis.objects.get().corrected == []  # on record, not in force
