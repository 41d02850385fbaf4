"""A service servicepulse has just been told about is "learning", not "calm": detection raises nothing in
its first 48 hours (docs/detection.md), so the board must not vouch for it yet."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from servicepulse.catalog.models import Service
from servicepulse.catalog.services import catalog_load
from servicepulse.core.times import local_time_text
from servicepulse.incidents.detection import Detector, DetectorConfig
from servicepulse.incidents.models import DetectorSnapshot


def _text(response: Any) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _badge(html: str, service_id: str) -> str:
    card = re.search(
        rf'<li class="card svc state-(\w+)">\s*<div class="svc-head">\s*<h2><a href="/services/{service_id}/"',
        html,
    )
    assert card is not None
    return card.group(1)


def test_a_service_added_today_is_learning_until_48_hours_of_history(clients: dict[str, Client]) -> None:
    catalog_load(data={"services": [{"id": "vle", "name": "Moodle VLE"}]})
    until = timezone.localtime(Service.objects.get(id="vle").created_at + timedelta(hours=48))
    board = clients["viewer"].get("/")
    assert _badge(board.content.decode(), "vle") == "learning"
    for response in (board, clients["viewer"].get("/services/vle/")):
        page = _text(response)
        assert "Calm" not in page
        assert f"Learning (until {local_time_text(until)})" in page
        assert "Detection starts after 48 hours of history" in page
        assert 'title="Detection starts after 48 hours of history' in response.content.decode()


def test_a_detector_still_warming_up_keeps_the_service_learning(clients: dict[str, Client]) -> None:
    catalog_load(data={"services": [{"id": "vle", "name": "Moodle VLE"}]})
    Service.objects.filter(id="vle").update(created_at=timezone.now() - timedelta(days=30))
    last = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=15)
    # Ten hours of buckets seen: 38 more to go, counted from the bucket after the last one fed.
    warming = Detector(config=DetectorConfig(bucket_minutes=15), n=40, last_timestamp=last)
    DetectorSnapshot.objects.create(service_id="vle", state=warming.to_state(), last_bucket=last)
    until = timezone.localtime(last + timedelta(minutes=15) + timedelta(hours=38))
    page = _text(clients["viewer"].get("/services/vle/"))
    assert f"Learning (until {local_time_text(until)})" in page

    warm = Detector(config=DetectorConfig(bucket_minutes=15), n=14 * 96, last_timestamp=last)
    DetectorSnapshot.objects.filter(service_id="vle").update(state=warm.to_state())
    board = clients["viewer"].get("/")
    assert _badge(board.content.decode(), "vle") == "calm"
    assert "Learning" not in _text(board)
    assert "Learning" not in _text(clients["viewer"].get("/services/vle/"))
