"""The report's figures a service desk manager checks: which ticket is the desk's first about an incident, SLA
percentages while tickets are still open, and scores printed the same way in the chart and the tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from servicepulse.experience import charts
from servicepulse.experience.periods import IsoWeek
from servicepulse.experience.rendering import report_text
from servicepulse.experience.selectors import report_build, ticket_sla
from servicepulse.experience.services import report_email_send, tickets_import_records
from servicepulse.experience.templatetags.experience_tags import signed
from servicepulse.incidents.models import IncidentKind, IncidentState
from servicepulse.incidents.services import incident_create, incident_update_status
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

# The demo's deadline night, week 2026-W47 (London is on GMT in November): the chatter began on Sunday evening,
# the incident was resolved in the small hours of Monday.
SUNDAY_EVENING = datetime(2026, 11, 22, 21, 3, tzinfo=UTC)


def _ticket(ref: str, service: str, opened: datetime, resolved: datetime | None = None, priority: str = "P3"):  # type: ignore[no-untyped-def]
    return {
        "opened": opened.isoformat(),
        "resolved": "" if resolved is None else resolved.isoformat(),
        "service": service,
        "priority": priority,
        "reference": ref,
    }


def _incident(service_id: str, *, began: datetime, resolved: datetime) -> None:
    incident = incident_create(
        service_id=service_id,
        title=f"{service_id}: complaints rising",
        started_at=began,
        kind=IncidentKind.DETECTED,
        state=IncidentState.POSSIBLE,
        at=began + timedelta(minutes=57),
    )
    incident_update_status(incident=incident, state=IncidentState.CONFIRMED, at=began + timedelta(hours=2))
    incident_update_status(incident=incident, state=IncidentState.RESOLVED, at=resolved)


@pytest.fixture
def deadline_night(db):  # type: ignore[no-untyped-def]
    ServiceFactory(id="vle", name="Moodle VLE", order=0)
    ServiceFactory(id="sso", name="Single sign-on", order=1)
    vle_resolved = SUNDAY_EVENING + timedelta(hours=5, minutes=27)  # Mon 02:30
    sso_resolved = SUNDAY_EVENING + timedelta(hours=4, minutes=12)  # Mon 01:15
    _incident("vle", began=SUNDAY_EVENING, resolved=vle_resolved)
    _incident("sso", began=SUNDAY_EVENING, resolved=sso_resolved)
    tickets_import_records(
        records=[
            # The VLE's first call when the desk opens on Monday, about 5.5 hours after the fix.
            _ticket("VLE-1", "vle", vle_resolved + timedelta(hours=5, minutes=49), priority="P2"),
            # Single sign-on: nothing until an unrelated ticket 35 hours after its incident ended.
            _ticket("SSO-1", "sso", sso_resolved + timedelta(hours=35)),
        ],
        origin="test",
    )


def test_a_ticket_long_after_the_incident_is_not_the_desk_hearing_of_it(deadline_night: None) -> None:
    report = report_build(week="2026-W47")
    assert report.incidents is not None
    rows = {row.facts.service_id: row for row in report.incidents}
    # The VLE's Monday-morning ticket is the desk hearing of the night's outage.
    assert rows["vle"].first_ticket_at == datetime(2026, 11, 23, 8, 19, tzinfo=UTC)
    assert rows["vle"].lead_over_desk == timedelta(hours=10, minutes=19)
    # Single sign-on claimed "1 d 14 h ahead" from the Tuesday ticket.
    assert rows["sso"].first_ticket_at is None and rows["sso"].lead_over_desk is None
    text = report_text(report)
    incidents = text.split("INCIDENTS")[1].split("TOP COMPLAINT THEMES")[0]
    sso_line = next(line for line in incidents.splitlines() if line.startswith("- Single sign-on:"))
    assert "no matching service-desk ticket" in sso_line and "after servicepulse" not in sso_line
    assert "4 desk hours" in text


def test_the_report_page_says_no_ticket_matched_and_states_the_rule(
    deadline_night: None, users, client: Client
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["viewer"])
    html = client.get("/experience/report/?week=2026-W47").content.decode()
    section = html.split('id="incidents-h"')[1].split("</section>")[0]
    sso = next(row for row in re.findall(r"<tr>.*?</tr>", section, re.S) if "Single sign-on" in row)
    assert "no matching ticket" in sso and "1 d 14 h" not in sso
    assert "4 desk hours (weekdays 08:00" in section and "18:00) after the incident was resolved" in section


def test_a_friday_evening_outage_still_matches_monday_mornings_calls(db) -> None:  # type: ignore[no-untyped-def]
    ServiceFactory(id="wifi", name="Wi-Fi")
    friday = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
    _incident("wifi", began=friday, resolved=friday + timedelta(hours=3))
    tickets_import_records(
        records=[_ticket("W-1", "wifi", datetime(2026, 11, 23, 9, 10, tzinfo=UTC))], origin="test"
    )
    row = report_build(week="2026-W47").incidents[0]  # type: ignore[index]
    assert row.first_ticket_at == datetime(2026, 11, 23, 9, 10, tzinfo=UTC)


def test_the_grace_counts_desk_hours_only(settings) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.experience.selectors import after_desk_hours

    monday_night = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    assert after_desk_hours(monday_night, 4) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    friday_evening = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)  # half an hour left on Friday
    assert after_desk_hours(friday_evening, 4) == datetime(2026, 11, 23, 11, 30, tzinfo=UTC)
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert after_desk_hours(tuesday, 4) == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    assert after_desk_hours(tuesday, 0) == tuesday
    # In summer time the desk's hours are London's, not UTC's.
    july = datetime(2026, 7, 6, 1, 0, tzinfo=UTC)  # Monday 02:00 BST
    assert after_desk_hours(july, 1) == datetime(2026, 7, 6, 8, 0, tzinfo=UTC)  # 09:00 BST


def test_the_grace_is_a_setting(deadline_night: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_DESK_TICKET_GRACE_HOURS = 40  # four working days: Tuesday's ticket counts again
    rows = {row.facts.service_id: row for row in report_build(week="2026-W47").incidents or []}
    assert rows["sso"].first_ticket_at is not None


# --- SLA: a ticket still open and within its target is neither met nor missed ----------------------------


def test_open_tickets_within_target_are_pending_not_missed(db) -> None:  # type: ignore[no-untyped-def]
    ServiceFactory(id="vle", name="Moodle VLE")
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    start = now - timedelta(days=4)
    tickets_import_records(
        records=[
            _ticket("A", "vle", now - timedelta(hours=30), now - timedelta(hours=29)),  # P3 met
            _ticket("B", "vle", now - timedelta(hours=20)),  # P3 open, 52 h left: pending
            _ticket("C", "vle", now - timedelta(hours=10), priority="P2"),  # P2 open past 8 h: missed
            _ticket("D", "vle", now - timedelta(hours=3), priority="P2"),  # P2 open, 5 h left: pending
        ],
        origin="test",
    )
    rows, per_service = ticket_sla(start=start, end=now, now=now)
    by = {r.priority: r for r in rows}
    assert (by["P3"].opened, by["P3"].within_target, by["P3"].pending) == (2, 1, 1)
    assert by["P3"].within_pct == 100  # was 50: the open ticket counted as a miss
    assert (by["P2"].opened, by["P2"].within_target, by["P2"].pending) == (2, 0, 1)
    assert by["P2"].within_pct == 0  # the late one is a miss; the other is not decided yet
    assert per_service == {"vle": (4, 1, 2)}
    # Later, past their targets, still open: both misses.
    rows, per_service = ticket_sla(start=start, end=now, now=now + timedelta(days=3))
    by = {r.priority: r for r in rows}
    assert by["P3"].pending == 0 and by["P3"].within_pct == 50
    assert per_service == {"vle": (4, 1, 0)}


def test_the_report_says_how_many_tickets_are_pending(db, users, client: Client) -> None:  # type: ignore[no-untyped-def]
    ServiceFactory(id="vle", name="Moodle VLE")
    now = timezone.now()
    week = IsoWeek.containing(now)
    opened = max(week.start, now - timedelta(minutes=5))
    tickets_import_records(records=[_ticket("OPEN", "vle", opened)], origin="test")
    report = report_build(week=week)
    assert report.sla is not None and report.sla_pending == 1
    assert report.sla_services[0].pending == 1 and report.sla_services[0].within_pct is None
    client.force_login(users["viewer"])
    html = client.get(f"/experience/report/?week={week.label}").content.decode()
    sla = html.split('id="sla-h"')[1].split("</section>")[0]
    assert "(1 pending)" in sla and "1 pending at" in sla
    assert "0%" not in sla  # it read "0% within SLA" for a ticket opened five minutes before
    assert report_email_send(week=week.label, recipients=["cio@northgate.example"]).sent == [
        "cio@northgate.example"
    ]
    assert "- Moodle VLE: 1 ticket, — within SLA (1 pending)" in mail.outbox[0].body


# --- scores: the chart prints what the table prints ----------------------------------------------------------


@pytest.mark.parametrize("value", [0.0, 0.4, -0.3, 0.5, -0.5, 0.6, -12.4, 37.6, 100.0, -100.0])
def test_the_chart_and_the_table_print_a_score_alike(value: float) -> None:
    svg = charts.score_bars([charts.ScoreBar(label="VPN", value=value, low=-10, high=10, n=40)], title="t")
    printed = re.search(r"fill='#1d2330'>([^<]*) <tspan", svg)
    assert printed is not None
    assert printed.group(1) == signed(value)
    assert printed.group(1) not in {"+0", "-0"}


def test_a_zero_target_is_marked_without_a_sign() -> None:
    svg = charts.score_bars([charts.ScoreBar(label="VPN", value=5, target=0, n=40)], title="t")
    assert "<title>target 0</title>" in svg
