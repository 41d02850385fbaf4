"""The term calendar file (SERVICEPULSE_TERM_CALENDAR) as an admin writes it: nested periods, mistakes named
with where they are and how to write them, checked when servicepulse starts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from servicepulse.incidents.calendar import (
    CALENDAR_NOTICE,
    Period,
    TermCalendar,
    calendar_runs_out,
    term_calendar,
)
from servicepulse.incidents.services import term_calendar_set

TERM = {"start": "2026-09-21T00:00:00+01:00", "end": "2026-12-12T00:00:00+00:00", "kind": "term"}


def written(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "calendar.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def refusal(tmp_path: Path, content: Any) -> str:
    with pytest.raises(ImproperlyConfigured) as caught:
        TermCalendar.from_json(written(tmp_path, content))
    return str(caught.value)


def test_a_reading_week_inside_term_leaves_the_rest_of_term_term(tmp_path: Path) -> None:
    """Term was '' (ordinary time) for every week after a reading week or exams written inside it."""
    calendar = TermCalendar.from_json(
        written(
            tmp_path,
            [
                TERM,
                {"start": "2026-11-02T00:00:00+00:00", "end": "2026-11-09T00:00:00+00:00", "kind": "reading"},
                {"start": "2026-12-07T00:00:00+00:00", "end": "2026-12-19T00:00:00+00:00", "kind": "exams"},
            ],
        )
    )
    day = [datetime(2026, m, d, 12, tzinfo=UTC) for m, d in ((10, 1), (11, 4), (11, 20), (12, 8), (12, 16))]
    assert [calendar(moment) for moment in day] == ["term", "reading", "term", "exams", "exams"]
    assert calendar(datetime(2026, 9, 20, 22, 59, tzinfo=UTC)) == ""  # the term starts at midnight, BST
    assert calendar(datetime(2026, 12, 19, tzinfo=UTC)) == ""  # a period ends just before its "end"


def test_consecutive_periods_read_as_before() -> None:
    weeks = [
        Period(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 12, tzinfo=UTC), "term"),
        Period(datetime(2026, 1, 12, tzinfo=UTC), datetime(2026, 1, 19, tzinfo=UTC), "exams"),
    ]
    calendar = TermCalendar(weeks)
    assert calendar(datetime(2026, 1, 11, 23, 59, tzinfo=UTC)) == "term"
    assert calendar(datetime(2026, 1, 12, tzinfo=UTC)) == "exams"
    assert calendar(datetime(2026, 1, 19, tzinfo=UTC)) == ""


def test_a_time_without_an_offset_is_named_with_the_offset_it_needs(tmp_path: Path, settings: Any) -> None:
    settings.TIME_ZONE = "Europe/London"
    message = refusal(
        tmp_path, [TERM, {"start": "2027-01-11", "end": "2027-03-27T00:00:00+00:00", "kind": "term"}]
    )
    assert "period 2" in message and '"start" is "2027-01-11", with no UTC offset' in message
    assert '"2027-01-11T00:00:00+00:00" in Europe/London' in message


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("[" + json.dumps(TERM) + ",]", "not valid JSON (Expecting value at line 1, column"),
        ("", "not valid JSON"),
        (TERM, "must be a JSON list of periods, like ["),
        ([{**TERM, "kind": ""}], 'period 1: "kind" must name the kind of period'),
        ([{"start": TERM["start"], "end": TERM["end"], "type": "term"}], 'period 1: "kind" missing'),
        (
            [{**TERM, "start": TERM["end"], "end": TERM["start"]}],
            'period 1: "end" (2026-09-21T00:00:00+01:00) must be after',
        ),
        ([{**TERM, "start": "21/09/2026"}], 'period 1: "start" is "21/09/2026", not an ISO 8601 time'),
        (["term"], "period 1: each period is an object like"),
    ],
)
def test_mistakes_are_named_where_they_are(tmp_path: Path, content: Any, said: str) -> None:
    """They read "string indices must be integers", "'kind'", or nothing at all (a period ending before it
    started was taken, and never applied)."""
    assert said in refusal(tmp_path, content)


@pytest.mark.django_db
def test_an_empty_list_means_no_calendar_not_the_stored_one(tmp_path: Path, settings: Any) -> None:
    term_calendar_set(
        periods=[Period(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC), "term")]
    )
    settings.SERVICEPULSE_TERM_CALENDAR = str(written(tmp_path, []))
    calendar = term_calendar()
    assert calendar is not None and calendar(datetime(2026, 2, 1, tzinfo=UTC)) == ""


def test_a_bad_calendar_file_stops_start_up_saying_why(tmp_path: Path, settings: Any) -> None:
    """It was read only by the detection runs, each failing in the worker's log while the site ran on."""
    settings.SERVICEPULSE_TERM_CALENDAR = str(written(tmp_path, [{**TERM, "end": "2026-12-12"}]))
    with pytest.raises(SystemCheckError, match=r'servicepulse\.E001.*period 1: "end" is "2026-12-12"'):
        call_command("check")
    settings.SERVICEPULSE_TERM_CALENDAR = str(written(tmp_path, [TERM]))
    call_command("check")


def _period_ending(end: datetime, kind: str = "term") -> dict[str, str]:
    return {"start": (end - timedelta(days=80)).isoformat(), "end": end.isoformat(), "kind": kind}


def test_a_calendar_running_out_is_said_at_start_up(tmp_path: Path, settings: Any) -> None:
    """Past its last period every day is ordinary time to the detector, and nothing said so: the calendar of
    the academic year ran out in the summer and the first busy week of the new term looked like an outage."""
    now = timezone.now()
    settings.SERVICEPULSE_TERM_CALENDAR = str(written(tmp_path, [_period_ending(now + timedelta(days=200))]))
    out = StringIO()
    call_command("check", stdout=out, stderr=out)
    assert "W003" not in out.getvalue()

    settings.SERVICEPULSE_TERM_CALENDAR = str(written(tmp_path, [_period_ending(now + timedelta(days=10))]))
    call_command("check", stdout=out, stderr=out)
    assert "servicepulse.W003" in out.getvalue() and "runs out on" in out.getvalue()

    settings.SERVICEPULSE_TERM_CALENDAR = str(written(tmp_path, [_period_ending(now - timedelta(days=10))]))
    out = StringIO()
    call_command("check", stdout=out, stderr=out)  # a warning: servicepulse still starts
    assert "servicepulse.W003" in out.getvalue() and "ran out on" in out.getvalue()


def test_when_the_calendar_runs_out() -> None:
    now = datetime(2027, 6, 1, tzinfo=UTC)
    end = datetime(2027, 6, 20, tzinfo=UTC)
    calendar = TermCalendar(
        [
            Period(end - timedelta(days=90), end, "term"),
            Period(end - timedelta(days=60), end - timedelta(days=50), "reading"),
        ]
    )
    assert calendar.ends_at == end
    assert calendar_runs_out(calendar, now=now) == end
    assert calendar_runs_out(calendar, now=end + timedelta(days=100)) == end
    assert calendar_runs_out(calendar, now=end - CALENDAR_NOTICE - timedelta(days=1)) is None
    assert calendar_runs_out(None, now=now) is None
    assert calendar_runs_out(TermCalendar([]), now=now) is None
