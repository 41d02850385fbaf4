"""`servicepulse import-tickets`: good rows kept, bad rows reported by line and kept out, exact re-import."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from servicepulse.experience.models import Ticket
from servicepulse.experience.selectors import ticket_sla
from servicepulse.experience.services import TicketFileError, tickets_import_file
from tests.factories import ServiceFactory

GOOD_AND_BAD = """opened,resolved,service,priority,reference
2026-11-16T09:00:00+00:00,2026-11-16T11:00:00+00:00,vle,P2,INC1
2026-11-16T10:00:00Z,,Moodle,3,INC2
16/11/2026 12:30,17/11/2026 09:00,wifi,high,INC3
not a date,2026-11-16T11:00:00+00:00,vle,P2,INC4
2026-11-16T09:00:00+00:00,2026-11-15T11:00:00+00:00,vle,P2,INC5
2026-11-16T09:00:00+00:00,,printing,P1,INC6
2026-11-16T09:00:00+00:00,,vle,P9,INC7
2026-11-16T09:00:00+00:00,,vle,P1,INC8,surplus
,,vle,P1,INC9
2026-11-16T13:00:00+00:00,2026-11-20T13:00:00+00:00,eduroam,low,INC10
"""


@pytest.fixture
def catalogue(db):  # type: ignore[no-untyped-def]
    ServiceFactory(id="vle", name="Moodle VLE", aliases=["moodle", "learn"])
    ServiceFactory(id="wifi", name="Wi-Fi", aliases=["eduroam"])


def write(tmp_path: Path, text: str, name: str = "tickets.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_rows_are_reported_with_line_numbers_and_kept_out(catalogue: None, tmp_path: Path) -> None:
    report = tickets_import_file(path=write(tmp_path, GOOD_AND_BAD))
    assert report.imported == 4
    assert report.rejected == 6
    reasons = dict(report.errors)
    assert sorted(reasons) == [5, 6, 7, 8, 9, 10]
    assert "opened" in reasons[5]
    assert "before opened" in reasons[6]
    assert "printing" in reasons[7] and "catalogue" in reasons[7]
    assert "priority" in reasons[8]
    assert "more cells" in reasons[9]
    assert "opened" in reasons[10]
    assert set(Ticket.objects.values_list("reference", flat=True)) == {"INC1", "INC2", "INC3", "INC10"}


def test_services_by_name_or_alias_and_priorities_by_word(catalogue: None, tmp_path: Path) -> None:
    tickets_import_file(path=write(tmp_path, GOOD_AND_BAD))
    inc2 = Ticket.objects.get(reference="INC2")
    assert (inc2.service_id, inc2.priority, inc2.resolved_at) == ("vle", "P3", None)
    inc3 = Ticket.objects.get(reference="INC3")
    assert (inc3.service_id, inc3.priority) == ("wifi", "P2")
    # A day-first time without an offset is read in the organisation's time zone (London, GMT in November).
    assert inc3.opened_at == datetime(2026, 11, 16, 12, 30, tzinfo=UTC)
    assert Ticket.objects.get(reference="INC10").priority == "P4"


def test_reimport_is_idempotent_and_updates_a_ticket_resolved_since(catalogue: None, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_AND_BAD)
    tickets_import_file(path=path)
    again = tickets_import_file(path=path)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 4)
    assert Ticket.objects.count() == 4
    later = GOOD_AND_BAD.replace(
        "2026-11-16T10:00:00Z,,Moodle", "2026-11-16T10:00:00Z,2026-11-18T10:00:00Z,Moodle"
    )
    third = tickets_import_file(path=write(tmp_path, later))
    assert (third.imported, third.updated, third.unchanged) == (0, 1, 3)
    assert Ticket.objects.get(reference="INC2").resolved_at == datetime(2026, 11, 18, 10, tzinfo=UTC)


def test_without_a_reference_column_identical_rows_are_kept_apart_and_reimport_is_exact(
    catalogue: None, tmp_path: Path
) -> None:
    text = "opened,resolved,service,priority\n" + "2026-11-16T09:00:00+00:00,,vle,P3\n" * 2
    path = write(tmp_path, text)
    assert tickets_import_file(path=path).imported == 2
    assert tickets_import_file(path=path).unchanged == 2
    assert Ticket.objects.count() == 2


def test_missing_columns_or_empty_file_fail_as_a_whole(catalogue: None, tmp_path: Path) -> None:
    with pytest.raises(TicketFileError, match=r"missing column.*priority"):
        tickets_import_file(path=write(tmp_path, "opened,resolved,service\n2026-11-16T09:00:00Z,,vle\n"))
    with pytest.raises(TicketFileError, match="empty"):
        tickets_import_file(path=write(tmp_path, ""))
    with pytest.raises(TicketFileError, match="cannot read"):
        tickets_import_file(path=tmp_path / "nope.csv")


def test_sla_figures_per_priority(catalogue: None, tmp_path: Path) -> None:
    tickets_import_file(path=write(tmp_path, GOOD_AND_BAD))
    start = datetime(2026, 11, 16, tzinfo=UTC)
    # Read on 27 November: INC2 (P3, 72 h) has been open past its target since the 19th.
    rows, per_service = ticket_sla(
        start=start, end=start + timedelta(days=7), now=datetime(2026, 11, 27, tzinfo=UTC)
    )
    by = {r.priority: r for r in rows}
    # P2: INC1 resolved in 2 h (target 8 h), INC3 in 20.5 h: one of two within target.
    assert (by["P2"].opened, by["P2"].resolved, by["P2"].within_target) == (2, 2, 1)
    assert by["P2"].within_pct == 50
    assert (by["P3"].opened, by["P3"].resolved, by["P3"].within_target) == (1, 0, 0)
    assert (by["P4"].opened, by["P4"].within_target) == (1, 1)  # 96 h against 120 h
    assert by["P1"].opened == 0 and by["P1"].within_pct is None
    assert per_service == {"vle": (2, 1, 0), "wifi": (2, 1, 0)}


def test_command_prints_counts_reports_lines_and_exits_1(catalogue: None, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, GOOD_AND_BAD)
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_tickets", str(path))
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert json.loads(out.strip().splitlines()[-1]) == {
        "imported": 4,
        "updated": 0,
        "unchanged": 0,
        "rejected": 6,
    }
    assert "line 5: opened" in err and "line 8: priority" in err


@pytest.mark.django_db(transaction=True)
def test_console_command_runs_through_the_cli_and_succeeds_on_a_clean_file(tmp_path: Path) -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    path = write(tmp_path, "opened,resolved,service,priority\n2026-11-16T09:00:00+00:00,,vle,P3\n")
    from servicepulse.cli import main

    main(["import-tickets", str(path)])  # returns normally: exit status 0
    assert Ticket.objects.count() == 1


def test_a_time_without_offset_is_read_in_the_organisations_time_zone_and_said_so(  # type: ignore[no-untyped-def]
    catalogue: None, tmp_path: Path, settings, capsys
) -> None:
    settings.TIME_ZONE = "America/New_York"
    text = (
        "opened,resolved,service,priority,reference\n"
        "2026-11-18 09:00,,vle,P3,LOCAL\n"  # a service-desk export's local time
        "2026-11-18T09:00:00+00:00,,vle,P3,UTC\n"
    )
    call_command("import_tickets", str(write(tmp_path, text)))
    assert Ticket.objects.get(reference="LOCAL").opened_at == datetime(2026, 11, 18, 14, tzinfo=UTC)
    assert Ticket.objects.get(reference="UTC").opened_at == datetime(2026, 11, 18, 9, tzinfo=UTC)
    err = capsys.readouterr().err
    assert "1 row(s) gave times without a UTC offset, read as America/New_York time" in err


def test_the_help_says_how_times_without_offset_are_read(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        call_command("import_tickets", "--help")
    assert "organisation's time zone" in " ".join(capsys.readouterr().out.split())


def test_future_and_unrepresentable_times_are_rejected_per_line(catalogue: None, tmp_path: Path) -> None:
    from django.utils import timezone

    soon = (timezone.now() + timedelta(hours=20)).isoformat()  # clocks and zones: within a day is fine
    later = (timezone.now() + timedelta(days=3)).isoformat()
    text = (
        "opened,resolved,service,priority,reference\n"
        "9999-12-31,,vle,P3,FAR\n"
        "9999-12-31 00:00,,vle,P3,FAR2\n"
        "2026-11-16T09:00:00+00:00,9999-12-31T23:00:00-05:00,vle,P3,OVERFLOW\n"
        "0001-01-01T00:00:00+01:00,,vle,P3,BEFORE1\n"
        f"{later},,vle,P3,LATER\n"
        f"2026-11-16T09:00:00+00:00,{later},vle,P3,RESOLVEDLATER\n"
        f"{soon},,vle,P3,SOON\n"
        "2026-11-16T09:00:00+00:00,,vle,P3,OK\n"
    )
    report = tickets_import_file(path=write(tmp_path, text))
    reasons = dict(report.errors)
    assert (report.imported, report.rejected) == (2, 6)
    assert "opened" in reasons[2] and "future" in reasons[2]
    assert "opened" in reasons[3] and "future" in reasons[3]
    assert reasons[4].startswith("resolved:") and "out of range" in reasons[4]
    assert reasons[5].startswith("opened:") and "out of range" in reasons[5]
    assert reasons[6].startswith("opened:") and "future" in reasons[6]
    assert reasons[7].startswith("resolved:") and "future" in reasons[7]
    assert set(Ticket.objects.values_list("reference", flat=True)) == {"SOON", "OK"}


def test_the_help_says_what_the_file_holds(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        call_command("import_tickets", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "positional arguments: file CSV file with the header row opened,resolved,service,priority" in text
    assert "service a catalogue service's id, name or alias, priority P1-P4" in text
