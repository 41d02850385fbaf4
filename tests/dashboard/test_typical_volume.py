"""The typical complaint volume the board and the service page compare today's complaints with."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from servicepulse.dashboard.selectors import complaints_against_baseline
from servicepulse.incidents.detection import Detector
from servicepulse.incidents.models import DetectorSnapshot
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_today_is_compared_with_what_usually_comes_by_this_hour() -> None:
    service = ServiceFactory(id="vle", name="Moodle VLE")
    detector = Detector(level=0.25)  # a flat profile: the same expected count in every bucket
    DetectorSnapshot.objects.create(service=service, state=detector.to_state())
    per_day = 24 * 0.25 * 60 / detector.config.bucket_minutes
    six_am = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=3), time(6, 30)))

    complaints, typical = complaints_against_baseline(
        service_ids=["vle"], days=3, now=six_am, counts={"vle": {}}
    )["vle"]

    assert complaints == [0, 0, 0]
    # Finished days: the whole day. Today at 06:30: six and a half hours' worth, as its count is (it was the
    # whole day, so every morning the board showed each service far below its typical volume).
    assert typical[:2] == [pytest.approx(per_day, abs=0.1)] * 2
    assert typical[2] == pytest.approx(per_day * 6.5 / 24, abs=0.1)


def test_typical_is_what_usually_comes_not_the_baselines_raw_expectation() -> None:
    """A detector whose baseline expects twice what came over its last weeks (a quiet service, see
    Detector.calibration): the board's typical day is what came, not what the baseline expects."""
    service = ServiceFactory(id="vpn", name="VPN")
    # Half of what the baseline expects came, over flat factors.
    detector = Detector(level=0.25, usual_sums=[0.125, 1.0])
    DetectorSnapshot.objects.create(service=service, state=detector.to_state())
    per_day = 24 * 0.25 * 60 / detector.config.bucket_minutes
    noon = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=2), time(12, 0)))

    _, typical = complaints_against_baseline(service_ids=["vpn"], days=2, now=noon, counts={"vpn": {}})["vpn"]

    assert typical[0] == pytest.approx(per_day / 2, abs=0.1)
