"""Weeks and days in the organisation's time zone (Europe/London in tests) across the clock changes: the week
of 23 to 29 March 2026 is 167 hours long (clocks go forward on the Sunday), the week of 19 to 25 October 2026
169 hours. No post may fall between two weeks or into both. Expected times are worked out by hand in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from freezegun import freeze_time

from servicepulse.experience.periods import IsoWeek
from servicepulse.experience.rendering import report_print_html
from servicepulse.experience.selectors import report_build, score_series
from servicepulse.experience.services import report_email_send, tickets_import_records
from servicepulse.incidents.models import IncidentKind, IncidentState
from servicepulse.incidents.services import incident_create, incident_update_status
from tests.factories import ServiceFactory, SourceFactory

from .conftest import analysed

pytestmark = pytest.mark.django_db


def _posts(source, at: datetime, count: int, sentiment: str) -> None:  # type: ignore[no-untyped-def]
    for i in range(count):
        analysed(source, at=at + timedelta(seconds=i), text=f"moodle post {i}", sentiment=sentiment)


def test_weeks_with_a_clock_change_are_167_and_169_hours() -> None:
    spring, autumn = IsoWeek(2026, 13), IsoWeek(2026, 43)
    assert spring.start == datetime(2026, 3, 23, 0, 0, tzinfo=UTC)  # GMT
    assert spring.end == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)  # Monday 00:00 BST
    assert spring.end.astimezone(UTC) - spring.start.astimezone(UTC) == timedelta(hours=167)
    assert autumn.start == datetime(2026, 10, 18, 23, 0, tzinfo=UTC)  # Monday 00:00 BST
    assert autumn.end == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)  # GMT
    assert autumn.end.astimezone(UTC) - autumn.start.astimezone(UTC) == timedelta(hours=169)
    assert spring.next().start == spring.end and autumn.previous().end == autumn.start


@pytest.mark.parametrize(
    ("week", "first_utc", "last_utc", "outside_utc"),
    [
        # Monday 00:10 GMT, Sunday 23:50 BST (22:50 UTC); Monday 00:10 BST of the next week is 23:10 UTC.
        (
            "2026-W13",
            datetime(2026, 3, 23, 0, 10, tzinfo=UTC),
            datetime(2026, 3, 29, 22, 50, tzinfo=UTC),
            datetime(2026, 3, 29, 23, 10, tzinfo=UTC),
        ),
        # Monday 00:10 BST (Sunday 23:10 UTC), Sunday 23:50 GMT; Sunday 23:50 BST before it is 22:50 UTC.
        (
            "2026-W43",
            datetime(2026, 10, 18, 23, 10, tzinfo=UTC),
            datetime(2026, 10, 25, 23, 50, tzinfo=UTC),
            datetime(2026, 10, 18, 22, 50, tzinfo=UTC),
        ),
    ],
)
def test_a_week_with_a_clock_change_keeps_its_first_and_last_hour(
    week: str, first_utc: datetime, last_utc: datetime, outside_utc: datetime
) -> None:
    ServiceFactory(id="vle", name="Moodle VLE", order=0)
    source = SourceFactory(name="Students", kind="facebook")
    _posts(source, first_utc, 6, "positive")
    _posts(source, last_utc, 6, "negative")
    _posts(source, outside_utc, 5, "positive")  # the week next door

    report = report_build(week=week)
    vle = report.services[0].score
    assert (vle.n, vle.value) == (12, 0.0)
    assert report.totals["mentions"] == 12
    # The daily chart puts the first posts on Monday and the last on Sunday, and adds up to the headline.
    bars = [int(n) for n in re.findall(r"text-anchor='middle'>(\d+)</text>", str(report.chart_daily))]
    assert bars == [6, 0, 0, 0, 0, 0, 6]


def test_the_first_week_of_a_series_is_compared_with_the_whole_week_before() -> None:
    """The series from 30 March (after the 167-hour week) compares its first week with 23 to 29 March, not with
    the 168 hours before it, which would reach an hour into 16 to 22 March and take in twelve complaints posted
    at 23:30 on Sunday 22 March: an unchanged week would look like a rise."""
    ServiceFactory(id="vle", name="Moodle VLE", order=0)
    source = SourceFactory(name="Students", kind="facebook")
    _posts(source, datetime(2026, 3, 22, 23, 30, tzinfo=UTC), 12, "negative")  # 2026-W12, its last hour
    _posts(source, datetime(2026, 3, 25, 12, 0, tzinfo=UTC), 12, "neutral")  # 2026-W13
    _posts(source, datetime(2026, 4, 1, 12, 0, tzinfo=UTC), 12, "neutral")  # 2026-W14
    w14 = IsoWeek(2026, 14)
    series = score_series(service_id="vle", start=w14.start, end=w14.end)
    assert len(series) == 1 and series[0].start == w14.start and series[0].value == 0
    assert series[0].trend == ""  # the same twelve neutral posts as the week before
    # From 23 March on, the first week is compared with all of 16 to 22 March (its first hour included).
    _posts(source, datetime(2026, 3, 16, 0, 30, tzinfo=UTC), 12, "positive")  # 2026-W12, its first hour
    w13 = IsoWeek(2026, 13)
    series = score_series(service_id="vle", start=w13.start, end=w13.end)
    assert series[0].value == 0 and series[0].trend == ""  # 12 up and 12 down before: 0 as well
    # The daily series starts after the short Sunday: Monday 30 March is compared with Sunday 29 March.
    days = score_series(service_id="vle", start=w14.start, end=w14.start + timedelta(days=1), period="day")
    assert len(days) == 1 and days[0].start == w14.start and days[0].too_few


def _shown(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# "28 Nov 2026, 07:03 GMT": the report is generated now (BST or GMT, as it may be when the test runs).
NOW = r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} (GMT|BST)"


def test_every_time_in_the_report_names_its_zone(client, users, settings, capsys) -> None:  # type: ignore[no-untyped-def]
    """The report wrote "Sun 25 Oct 01:30" for both 01:30s of the night the clocks went back (2026-W43): the
    chatter began at 01:30 BST and servicepulse raised it at 01:30 GMT, an hour later, and the page, the PDF,
    the e-mail and the command could not tell them apart. They name the zone, as the status pages do; and
    Django's own "T" would have named neither of those two (it leaves the zone out in the repeated hour).
    Not under freeze_time: freezegun's datetimes lose the fold that tells the two 01:30s apart."""
    settings.TIME_ZONE = "Europe/London"
    ServiceFactory(id="vle", name="Moodle VLE", aliases=["moodle"], order=0)
    source = SourceFactory(name="Students", kind="facebook")
    for i in range(6):  # 01:40 BST, the first time round
        analysed(
            source,
            at=datetime(2026, 10, 25, 0, 40, i, tzinfo=UTC),
            text=f"upload error on my essay again, try {i}",
            sentiment="negative",
            complaint=True,
            author=f"student{i}",
        )
    began = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    incident = incident_create(
        service_id="vle",
        title="Moodle VLE: upload errors",
        started_at=began,
        kind=IncidentKind.DETECTED,
        state=IncidentState.CONFIRMED,
        at=began + timedelta(hours=1),  # 01:30 GMT
    )
    incident_update_status(
        incident=incident, state=IncidentState.RESOLVED, at=began + timedelta(hours=2, minutes=30)
    )
    tickets_import_records(
        records=[
            {
                "opened": datetime(2026, 10, 25, 1, 45, tzinfo=UTC).isoformat(),  # 01:45 GMT
                "resolved": "",
                "service": "vle",
                "priority": "P1",
                "reference": "T1",
            }
        ],
        origin="test",
    )
    client.force_login(users["viewer"])
    page = _shown(client.get("/experience/report/?week=2026-W43").content.decode())
    printed = _shown(report_print_html(report_build(week="2026-W43")))  # the PDF's one source
    report_email_send(week="2026-W43", recipients=["cio@northgate.example"])
    call_command("report", "--week", "2026-W43", "--email", "cio@northgate.example")
    call_command("report", "--week", "2026-W43")
    message = mail.outbox[0]
    emailed = _shown(message.alternatives[0][0])
    out, err = capsys.readouterr()
    for html in (page, printed, emailed):
        assert re.search(f"generated {NOW} ", html)
        assert (
            "Moodle VLE: upload errors 25 Oct 2026, 01:30 BST 25 Oct 2026, 01:30 GMT 1 h 00 min 0 "
            "25 Oct 2026, 01:45 GMT 15 min 25 Oct 2026, 03:00 GMT" in html
        )
        assert "Students, 25 Oct 2026, 01:40 BST" in html  # a theme's example post
    for text in (message.body, out):
        assert (
            "Chatter began 25 Oct 2026, 01:30 BST, raised 25 Oct 2026, 01:30 GMT (1 h 00 min to detect), "
            "0 people affected; desk's first ticket 25 Oct 2026, 01:45 GMT (15 min after servicepulse)"
            in text
        )
    assert re.search(rf"it already had week 2026-W43's report \({NOW}\); add --resend", err)

    # Before the week is over: how far the figures go, and the tickets still pending then.
    with freeze_time(datetime(2026, 10, 25, 3, 10, tzinfo=UTC)):
        page = _shown(client.get("/experience/report/?week=2026-W43").content.decode())
    assert "the figures cover it up to 25 Oct 2026, 03:10 GMT" in page
    assert "(1 pending at 25 Oct 2026, 03:10 GMT" in page
