"""The status page's uptime figure under each component's 90 days: same precision everywhere, and 100 % only
when no incident touched the component in the period."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.catalog.models import Service
from servicepulse.status.models import ComponentState, Impact, IncidentStatus
from servicepulse.status.selectors import DayStatus, uptime_percent
from servicepulse.status.services import maintenance_schedule, public_incident_open, public_incident_update
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def _uptimes(html: str) -> dict[str, str]:
    """Component name -> the uptime figure printed under its bars."""
    found = re.findall(
        r'<h3 style="margin:0">([^<]+)</h3>.*?<div class="days-legend"[^>]*>'
        r"<span[^>]*>[^<]*</span><span>([^<]*)</span>",
        html,
        re.S,
    )
    return dict(found)


def test_a_degraded_day_counts_and_figures_share_one_precision() -> None:
    for order, (sid, name) in enumerate([("vle", "Moodle VLE"), ("wifi", "Wi-Fi"), ("printing", "Printing")]):
        ServiceFactory(id=sid, name=name, order=order)
    # Known to servicepulse for longer than the 90 days shown.
    Service.objects.update(created_at=timezone.now() - timedelta(days=200))
    # Half an hour of slow logins at noon three days ago: one day of 90 touched, though never an outage.
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    slow = public_incident_open(
        title="Slow logins", service_ids=["vle"], impact=Impact.DEGRADED, body="slow", at=noon
    )
    public_incident_update(
        incident=slow, status=IncidentStatus.RESOLVED, body="ok", at=noon + timedelta(minutes=30)
    )
    # Planned work is not an incident.
    maintenance_schedule(
        title="Printer firmware", service_ids=["printing"], starts_at=noon, ends_at=noon + timedelta(hours=1)
    )

    uptimes = _uptimes(Client().get("/status/").content.decode())
    assert uptimes == {
        "Moodle VLE": "98.89 % of days without incident over 90 days",
        "Wi-Fi": "100.00 % of days without incident over 90 days",
        "Printing": "100.00 % of days without incident over 90 days",
    }


def test_100_only_without_a_single_incident_day() -> None:
    start = date(2000, 1, 1)
    days = [DayStatus(day=start + timedelta(days=i), state=ComponentState.OPERATIONAL) for i in range(40_000)]
    assert uptime_percent(days) == 100.0
    days[5] = DayStatus(day=days[5].day, state=ComponentState.MAINTENANCE)
    assert uptime_percent(days) == 100.0
    days[7] = DayStatus(day=days[7].day, state=ComponentState.MAJOR_OUTAGE)
    assert uptime_percent(days) == 99.99  # 39999 of 40000 days, 99.9975 %, would round to 100.00
    assert uptime_percent(days[:90]) == 98.89


def _bars(html: str, name: str) -> list[str]:
    """The classes of a component's day bars, oldest first."""
    found = re.search(rf'<ol class="days" aria-label="{re.escape(name)}:[^"]*">(.*?)</ol>', html, re.S)
    assert found is not None
    return re.findall(r'<li class="(\w+)"', found.group(1))


def test_a_component_added_today_has_no_data_before_today_and_is_not_100_over_90_days() -> None:
    ServiceFactory(id="vle", name="Moodle VLE", order=0)
    html = Client().get("/status/").content.decode()
    bars = _bars(html, "Moodle VLE")
    assert len(bars) == 90
    assert bars[:-1] == ["no_data"] * 89 and bars[-1] == "operational"
    assert _uptimes(html) == {"Moodle VLE": "100.00 % of days without incident over 1 day"}
    assert "No data</strong>" in html  # the key explains the grey bars


def test_days_with_posts_before_the_service_was_added_count_as_data() -> None:
    from servicepulse.analysis.services import analysis_save
    from tests.factories import MentionFactory

    ServiceFactory(id="vle", name="Moodle VLE", order=0)
    ServiceFactory(id="wifi", name="Wi-Fi", order=1)
    Service.objects.filter(id="wifi").update(created_at=timezone.now() - timedelta(days=30))
    # An import of posts written ten days ago, tagged to the VLE; and an incident on it five days ago.
    mention = MentionFactory(text="moodle is slow", created_at=timezone.now() - timedelta(days=10))
    analysis_save(
        mention=mention,
        complaint=True,
        complaint_score=0.9,
        sentiment="negative",
        sentiment_score=-0.8,
        spam=False,
        spam_score=0.02,
        services=[("vle", 0.9)],
    )
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=5)
    down = public_incident_open(
        title="Moodle down", service_ids=["vle"], impact=Impact.MAJOR_OUTAGE, body="down", at=noon
    )
    public_incident_update(
        incident=down, status=IncidentStatus.RESOLVED, body="ok", at=noon + timedelta(hours=1)
    )

    html = Client().get("/status/").content.decode()
    vle = _bars(html, "Moodle VLE")
    assert vle.count("no_data") == 79 and vle.count("major_outage") == 1
    assert _bars(html, "Wi-Fi").count("no_data") == 59
    assert _uptimes(html) == {
        "Moodle VLE": "90.91 % of days without incident over 11 days",
        "Wi-Fi": "100.00 % of days without incident over 31 days",
    }
