"""`servicepulse export` then `servicepulse restore` into an empty database round-trips exactly, catalogue
included."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from django.core.management import call_command

from servicepulse.analysis.exporting import export_write, restore_file
from servicepulse.analysis.models import Correction, MentionAnalysis, ServiceTag
from servicepulse.analysis.services import analysis_save, correction_create
from servicepulse.catalog.models import Service
from servicepulse.catalog.services import catalog_load
from servicepulse.demo.catalog import DEMO_CATALOG
from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.models import Source
from tests.factories import MentionFactory, SourceFactory

pytestmark = pytest.mark.django_db


def _fill(users: dict) -> None:  # type: ignore[type-arg]
    catalog_load(data=DEMO_CATALOG)
    fb = SourceFactory(kind="facebook", name="Students (Facebook)")
    widget = SourceFactory(kind="widget", name="portal")
    first = MentionFactory(
        source=fb, text="moodle down again", author="ann", author_id="fb:1", raw={"k": [1, 2]}
    )
    copy = MentionFactory(source=fb, text="moodle down again!", author="bo", in_reply_to=first.external_id)
    MentionFactory(
        source=widget, text="Problem: slow. printing", raw={"service_id": "printing"}
    )  # unanalysed
    analysis_save(
        mention=first,
        complaint=True,
        complaint_score=0.93,
        sentiment="negative",
        sentiment_score=-0.71,
        spam=False,
        spam_score=0.02,
        services=[("vle", 0.9), ("sso", 0.3)],
        language="en",
        model_version="v1",
    )
    analysis_save(
        mention=copy,
        complaint=True,
        complaint_score=0.9,
        sentiment="negative",
        sentiment_score=-0.6,
        spam=False,
        spam_score=0.01,
        services=[("vle", 0.8)],
        language="en",
        model_version="v1",
        duplicate_of_id=first.pk,
    )
    correction_create(mention=copy, field="services", value=["submission"], user=users["responder"])


def _export() -> str:
    buffer = io.StringIO()
    export_write(buffer)
    return buffer.getvalue()


def _wipe() -> None:
    Source.objects.all().delete()  # cascades to mentions, analysis, tags, corrections


def _counts(**given: int) -> dict[str, int]:
    counts = dict.fromkeys(
        (
            "restored",
            "duplicates",
            "rejected",
            "parts_quarantined",
            "services_added",
            "missing_service_refs",
        ),
        0,
    )
    return {**counts, **given}


def test_export_restore_export_is_identical(users: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    _fill(users)
    exported = _export()
    catalog, *lines = [json.loads(line) for line in exported.splitlines()]
    assert [s["id"] for s in catalog["catalog"]["services"]] == list(
        Service.objects.values_list("id", flat=True)
    )
    assert [line["id"] for line in lines] == list(
        Mention.objects.order_by("created_at", "id").values_list("external_id", flat=True)
    )
    assert lines[1]["analysis"]["services"] == ["submission"] and lines[1]["corrections"][0]["value"] == [
        "submission"
    ]
    assert lines[2]["analysis"] is None

    _wipe()
    assert Mention.objects.count() == 0
    path = tmp_path / "export.jsonl"
    path.write_text(exported)
    assert restore_file(path=path).as_dict() == _counts(restored=3)
    assert _export() == exported
    assert (MentionAnalysis.objects.count(), ServiceTag.objects.count(), Correction.objects.count()) == (
        2,
        3,
        1,
    )

    # Restoring again adds nothing.
    assert restore_file(path=path).as_dict() == _counts(duplicates=3)
    assert _export() == exported


def test_restore_into_a_database_without_the_catalogue_brings_the_catalogue(
    users: dict,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    """The QA repro: relabelled posts restored into a new database kept none of their services."""
    _fill(users)
    Service.objects.filter(id="vle").update(sensitivity=2.5, target_score=40, public=False)
    exported = _export()
    _wipe()
    Service.objects.all().delete()
    path = tmp_path / "export.jsonl"
    path.write_text(exported)

    report = restore_file(path=path)

    assert report.as_dict() == _counts(restored=3, services_added=len(DEMO_CATALOG["services"]))
    assert _export() == exported  # the services, their settings, every tag and correction
    vle = Service.objects.get(id="vle")
    assert (vle.sensitivity, vle.target_score, vle.public) == (2.5, 40, False)
    assert ServiceTag.objects.count() == 3


def test_restore_leaves_the_services_this_database_has_as_they_are(
    users: dict,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    _fill(users)
    exported = _export()
    _wipe()
    Service.objects.filter(id="vle").update(name="Learn (new name)")
    Service.objects.exclude(id__in=["vle", "sso"]).delete()
    path = tmp_path / "export.jsonl"
    path.write_text(exported)

    report = restore_file(path=path)

    assert report.services_added == len(DEMO_CATALOG["services"]) - 2
    assert Service.objects.get(id="vle").name == "Learn (new name)"


def test_restore_quarantines_bad_lines_and_keeps_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {
        "id": "1",
        "text": "vpn down",
        "created_at": "2026-10-01T09:00:00+00:00",
        "source": "s",
        "source_kind": "import",
    }
    path = tmp_path / "e.jsonl"
    path.write_text(
        "\n".join([json.dumps(good), "{broken", json.dumps({**good, "id": "2", "source": ""})]) + "\n"
    )
    with pytest.raises(SystemExit):
        call_command("restore", str(path))
    assert json.loads(capsys.readouterr().out) == _counts(restored=1, rejected=2)
    assert Mention.objects.get().text == "vpn down"
    assert sorted(Quarantine.objects.values_list("position", flat=True)) == ["line 2", "line 3"]
    call_command("export", output=str(tmp_path / "out.jsonl"))
    catalog, mention = (tmp_path / "out.jsonl").read_text().splitlines()
    assert json.loads(catalog) == {"catalog": {"services": []}}
    assert json.loads(mention)["text"] == "vpn down"


def _cross_source_duplicate() -> tuple[Mention, Mention]:
    """A post found a near-duplicate of another source's post (the analysis compares a batch with the recent
    posts of every source in it)."""
    catalog_load(data=DEMO_CATALOG)
    reddit = SourceFactory(kind="reddit", name="r/Uni")
    bluesky = SourceFactory(kind="bluesky", name="Uni on Bluesky")
    first = MentionFactory(source=reddit, text="moodle is down for everyone", external_id="t3_abc")
    copy = MentionFactory(source=bluesky, text="moodle is down for everyone!!", external_id="at://copy")
    for mention, duplicate in ((first, None), (copy, first)):
        analysis_save(
            mention=mention,
            complaint=True,
            complaint_score=0.9,
            sentiment="negative",
            sentiment_score=-0.6,
            spam=False,
            spam_score=0.01,
            services=[("vle", 0.9)],
            language="en",
            model_version="v1",
            duplicate_of_id=duplicate.pk if duplicate else None,
        )
    return first, copy


def test_a_near_duplicate_of_another_sources_post_round_trips(tmp_path: Path) -> None:
    """The upgrade review: 25 of the demo's near-duplicates point at another source's post; restore looked for
    the original in the post's own source and stored none of them."""
    _cross_source_duplicate()
    exported = _export()
    _wipe()
    path = tmp_path / "export.jsonl"
    path.write_text(exported)

    restore_file(path=path)

    copy = MentionAnalysis.objects.select_related("duplicate_of__source").get(
        mention__external_id="at://copy"
    )
    assert copy.duplicate_of is not None
    assert (copy.duplicate_of.source.name, copy.duplicate_of.external_id) == ("r/Uni", "t3_abc")
    assert _export() == exported


def test_an_export_from_before_duplicates_named_their_source_still_finds_them(tmp_path: Path) -> None:
    """Exports written by earlier versions name only the original's id: restore finds it in another source
    when exactly one restored post has that id."""
    _cross_source_duplicate()
    lines = [json.loads(line) for line in _export().splitlines()][1:]  # as before: no catalogue line
    for line in lines:
        line["analysis"].pop("duplicate_of_source", None)
    _wipe()
    path = tmp_path / "old-export.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    restore_file(path=path)

    copy = MentionAnalysis.objects.select_related("duplicate_of__source").get(
        mention__external_id="at://copy"
    )
    assert copy.duplicate_of is not None
    assert (copy.duplicate_of.source.name, copy.duplicate_of.external_id) == ("r/Uni", "t3_abc")


def test_export_to_a_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    # It holds everyone's posts, yet was written 0644 (world-readable) while export-author's file was 0600.
    MentionFactory(text="moodle down again", author="ann")
    target = tmp_path / "everyone.jsonl"
    call_command("export", output=str(target), stdout=io.StringIO())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(target.read_text().splitlines()) == 2  # the catalogue line, then the post
