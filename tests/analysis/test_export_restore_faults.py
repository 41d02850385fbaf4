"""`servicepulse restore` of damaged or foreign exports: every malformed part of a line goes to quarantine with
its reason while the valid mention beside it is kept; services the catalogue lacks are refused up front, or,
when allowed, counted and named once; nothing crashes and re-running adds nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from servicepulse.analysis.exporting import RestoreRefused, restore_file
from servicepulse.analysis.models import Correction, MentionAnalysis, ServiceTag
from servicepulse.catalog.models import Service
from servicepulse.mentions.models import Mention, Quarantine
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def mention(mention_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": mention_id,
        "text": f"post {mention_id}",
        "created_at": f"2026-10-01T09:{int(mention_id):02d}:00+00:00",
        "source": "Students (Facebook)",
        "source_kind": "facebook",
        **fields,
    }


def analysis(services: Any) -> dict[str, Any]:
    return {
        "model_output": {"complaint": True, "sentiment": "negative", "spam": False, "services": services},
        "complaint_score": 0.9,
        "sentiment_score": -0.5,
        "spam_score": 0.01,
        "language": "en",
        "model_version": "v1",
        "duplicate_of": None,
    }


def write(tmp_path: Path, *lines: Any) -> Path:
    path = tmp_path / "export.jsonl"
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def restore(path: Path, *args: str) -> tuple[int, dict[str, int], str]:
    """Run the command as a user would; (exit status, printed counts, stderr)."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("restore", str(path), *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, json.loads(out.getvalue()), err.getvalue()


def positions() -> dict[str, str]:
    return dict(Quarantine.objects.values_list("position", "reason"))


def test_malformed_analysis_and_corrections_are_quarantined_and_the_mentions_kept(tmp_path: Path) -> None:
    ServiceFactory(id="printing")
    path = write(
        tmp_path,
        mention("1", analysis=analysis([["printing", "abc"]])),
        mention("2", analysis=analysis([["printing", 0.8]]), corrections=[{"foo": 1}]),
        mention("3", analysis="str", corrections="str"),
        mention("4", analysis=analysis([["printing", 0.7]]), corrections=[{"field": "spam", "value": "yes"}]),
        mention(
            "5",
            analysis={**analysis([]), "complaint_score": "high", "model_output": {"complaint": "no"}},
            corrections=[{"field": "sentiment", "value": "positive"}],
        ),
        mention("6", analysis=analysis([["printing", 0.6]])),
    )

    status, counts, _ = restore(path)

    assert status == 1
    assert counts["restored"] == 6 and counts["rejected"] == 0 and counts["parts_quarantined"] == 6
    assert Mention.objects.count() == 6
    reasons = positions()
    assert set(reasons) == {
        "line 1 (analysis)",
        "line 2 (correction 1)",
        "line 3 (analysis)",
        "line 3 (corrections)",
        "line 4 (correction 1)",
        "line 5 (analysis)",
    }
    assert (
        "model_output.services[0]" in reasons["line 1 (analysis)"] and "'abc'" in reasons["line 1 (analysis)"]
    )
    assert "field and value" in reasons["line 2 (correction 1)"]
    assert "got str" in reasons["line 3 (analysis)"] and "got str" in reasons["line 3 (corrections)"]
    assert "spam must be true or false" in reasons["line 4 (correction 1)"]
    assert "complaint must be true or false" in reasons["line 5 (analysis)"]
    assert "complaint_score must be a number" in reasons["line 5 (analysis)"]
    # The well-formed parts beside them are stored.
    stored = {a.mention.external_id for a in MentionAnalysis.objects.select_related("mention")}
    assert stored == {"2", "4", "5", "6"}  # 5: from its valid correction alone
    assert MentionAnalysis.objects.get(mention__external_id="5").sentiment == "positive"
    assert ServiceTag.objects.filter(analysis__mention__external_id__in=["2", "4", "6"]).count() == 3
    # Each quarantined part keeps the whole line, exactly as it was.
    assert json.loads(Quarantine.objects.get(position="line 1 (analysis)").raw)["id"] == "1"

    again = restore(path)
    assert again[0] == 0 and again[1]["duplicates"] == 6 and again[1]["parts_quarantined"] == 0
    assert Quarantine.objects.count() == 6 and Mention.objects.count() == 6


def test_lines_that_are_not_mentions_are_quarantined_whole(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        mention("1"),
        '{"id": "2", "text": "x", "created_at": "2026-10-01T09:00:00+00:00", "source": "s", '
        '"source_kind": "import", "raw": {"v": NaN}}',
        mention("3", source_kind="carrier-pigeon"),
        mention("4", source="s" * 201),
        "[" * 100_000,
        mention("6", created_at="2026-10-01 09:00"),
    )

    status, counts, err = restore(path)

    assert (status, counts["restored"], counts["rejected"]) == (1, 1, 5)
    reasons = positions()
    # The person restoring is told which lines and why, not only how many.
    told = [line for line in err.splitlines() if line.startswith("quarantined ")]
    assert [t.split(":")[0] for t in told] == [f"quarantined line {n}" for n in (2, 3, 4, 5, 6)]
    assert "NaN is not a JSON number" in told[0] and "no UTC offset" in told[4]
    assert "NaN is not a JSON number" in reasons["line 2"]
    assert "not a kind of source" in reasons["line 3"]
    assert "longer than 200" in reasons["line 4"]
    assert "nested too deeply" in reasons["line 5"]
    assert "no UTC offset" in reasons["line 6"]


def old_export(tmp_path: Path) -> Path:
    """An export as made before exports carried their catalogue: relabelled to services this database lacks."""
    ServiceFactory(id="vle")
    return write(
        tmp_path,
        mention("1", analysis=analysis([["vle", 0.9], ["printing", 0.4]])),
        mention(
            "2",
            analysis=analysis([["vle", 0.9]]),
            corrections=[
                {"field": "services", "value": ["printing", "vpn"]},
                {"field": "complaint", "value": False},
            ],
        ),
        mention("3", analysis=analysis([["vle", 0.8]])),
    )


def test_an_export_naming_services_the_catalogue_lacks_is_refused_before_writing(tmp_path: Path) -> None:
    path = old_export(tmp_path)

    with pytest.raises(RestoreRefused, match=r"lacks: printing, vpn; load the catalogue first"):
        restore_file(path=path)
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(path))
    message = str(refused.value)
    assert "\n" not in message
    assert "servicepulse catalog load FILE.yaml" in message and "--allow-missing-services" in message
    assert (Mention.objects.count(), Quarantine.objects.count()) == (0, 0)


def test_allowed_missing_services_are_counted_named_once_and_nothing_else_is_lost(tmp_path: Path) -> None:
    path = old_export(tmp_path)

    status, counts, err = restore(path, "--allow-missing-services")

    assert status == 1  # the correction naming them is in quarantine, to be applied once they exist
    assert counts["restored"] == 3 and counts["parts_quarantined"] == 1
    assert counts["missing_service_refs"] == 2  # mention 1's printing tag, mention 2's correction
    warning, *told = err.splitlines()
    assert warning.startswith("warning:") and "printing, vpn" in warning
    assert [line.split(":")[0] for line in told] == ["quarantined line 2 (correction 1)"]
    assert "catalogue has no service printing, vpn" in positions()["line 2 (correction 1)"]
    first = MentionAnalysis.objects.get(mention__external_id="1")
    assert first.service_ids == ["vle"]
    assert first.model_output["services"] == [["vle", 0.9], ["printing", 0.4]]  # the models' answer is kept
    assert list(Correction.objects.values_list("field", flat=True)) == ["complaint"]

    status, counts, _ = restore(path, "--allow-missing-services")
    assert counts["duplicates"] == 3 and Quarantine.objects.count() == 1


def test_loading_the_catalogue_first_restores_every_tag(tmp_path: Path) -> None:
    path = old_export(tmp_path)
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text(
        "services:\n  - id: printing\n    name: Printing\n  - id: vpn\n    name: VPN\n", encoding="utf-8"
    )
    call_command("catalog", "load", str(catalogue))

    status, counts, err = restore(path)

    assert (status, counts["restored"], counts["missing_service_refs"], err) == (0, 3, 0, "")
    assert MentionAnalysis.objects.get(mention__external_id="2").service_ids == ["printing", "vpn"]


def test_a_malformed_catalogue_line_refuses_the_restore(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {"catalog": {"services": [{"id": "vle", "name": "VLE", "target_score": 500}]}},
        mention("1"),
    )
    with pytest.raises(RestoreRefused, match=r"line 1: .*target_score"):
        restore_file(path=path)
    write(tmp_path, {"catalog": {"services": [{"id": "Not A Slug", "name": "x"}]}}, mention("1"))
    with pytest.raises(RestoreRefused, match=r"line 1: .*slug"):
        restore_file(path=path)
    assert (Mention.objects.count(), Service.objects.count(), Quarantine.objects.count()) == (0, 0, 0)


def test_a_malformed_part_naming_an_unknown_service_does_not_stop_the_restore(tmp_path: Path) -> None:
    """The QA repro line: its analysis goes to quarantine whatever service it names, the mention is kept."""
    path = write(
        tmp_path,
        mention("1", analysis={"model_output": {"services": [["printing", "abc"]]}}),
        mention("2", corrections=[{"field": "services", "value": ["printing", 3]}]),
    )
    status, counts, _ = restore(path)
    assert (status, counts["restored"], counts["parts_quarantined"]) == (1, 2, 2)
    assert "services must be a list of service ids" in positions()["line 2 (correction 1)"]
