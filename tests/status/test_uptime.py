"""The status page's uptime figure under each component's 90 days: same precision everywhere, and 100 % only
when no incident touched the component in the period."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.status.models import ComponentState, Impact, IncidentStatus
from servicepulse.status.selectors import DayStatus, uptime_percent
from servicepulse.status.services import maintenance_schedule, public_incident_open, public_incident_update
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def _uptimes(html: str) -> dict[str, str]:
    """Component name -> the uptime figure printed under its bars."""
    found = re.findall(
        r'<h3 style="margin:0">([^<]+)</h3>.*?<div class="days-legend"[^>]*><span>[^<]*</span><span>([^<]*)</span>',
        html,
        re.S,
    )
    return dict(found)


def test_a_degraded_day_counts_and_figures_share_one_precision() -> None:
    for order, (sid, name) in enumerate([("vle", "Moodle VLE"), ("wifi", "Wi-Fi"), ("printing", "Printing")]):
        ServiceFactory(id=sid, name=name, order=order)
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
        "Moodle VLE": "98.89 % of days without incident",
        "Wi-Fi": "100.00 % of days without incident",
        "Printing": "100.00 % of days without incident",
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
