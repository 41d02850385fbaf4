"""How an incident grew, as its page draws it: complaints per bucket, the people so far, its state changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from servicepulse.incidents.models import IncidentKind, IncidentState
from servicepulse.incidents.selectors import MAX_GROWTH_BARS, incident_detail
from servicepulse.incidents.services import incident_attach_mentions, incident_create, incident_update_status
from tests.factories import MentionFactory, ServiceFactory, SourceFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 4, 21, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def quarter_hours(settings: Any) -> None:
    settings.SERVICEPULSE_BUCKET_MINUTES = 15


def attach(incident: Any, posts: list[tuple[str, datetime]]) -> None:
    source = SourceFactory()
    mentions = [MentionFactory(source=source, author=author, created_at=at) for author, at in posts]
    incident_attach_mentions(incident=incident, posts=[(m.pk, m.author_key) for m in mentions])


def test_complaints_per_bucket_people_so_far_and_state_changes() -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    incident = incident_create(
        service_id="vle",
        title="Moodle VLE: complaints rising",
        started_at=START,
        kind=IncidentKind.DETECTED,
        state=IncidentState.POSSIBLE,
        at=START + timedelta(minutes=10),
    )
    minutes = [("ana", 2), ("ben", 5), ("ana", 20), ("cai", 31), ("dee", 50)]
    attach(incident, [(author, START + timedelta(minutes=m)) for author, m in minutes])
    incident_update_status(incident=incident, state=IncidentState.CONFIRMED, at=START + timedelta(minutes=25))
    incident_update_status(incident=incident, state=IncidentState.RESOLVED, at=START + timedelta(minutes=65))

    detail = incident_detail(incident_id=incident.pk)
    assert detail is not None and detail.growth is not None
    growth = detail.growth
    assert growth.size == timedelta(minutes=15)
    # Two buckets before the start, then every bucket to the resolution at 22:05.
    assert [b.start for b in growth.bars] == [START + timedelta(minutes=15 * i) for i in range(-2, 5)]
    assert [b.complaints for b in growth.bars] == [0, 0, 2, 1, 1, 1, 0]
    assert [b.people for b in growth.bars] == [0, 0, 2, 2, 3, 4, 4]  # ana's second post is not a new person
    assert (growth.complaints, growth.people) == (5, 4)
    assert [(m.label, m.at) for m in growth.markers] == [
        ("possible", START + timedelta(minutes=10)),
        ("confirmed", START + timedelta(minutes=25)),
        ("resolved", START + timedelta(minutes=65)),
    ]


def test_an_incident_open_for_days_is_drawn_in_wider_buckets() -> None:
    ServiceFactory(id="wifi", name="Wi-Fi")
    incident = incident_create(
        service_id="wifi", title="Eduroam down", started_at=START, at=START + timedelta(minutes=5)
    )
    attach(incident, [(f"p{i}", START + timedelta(hours=7 * i)) for i in range(10)])
    with freeze_time(START + timedelta(days=3)):
        detail = incident_detail(incident_id=incident.pk)
    assert detail is not None and detail.growth is not None
    growth = detail.growth
    assert growth.size == timedelta(hours=1)  # 72 quarter-hours a day would be 288 bars
    assert len(growth.bars) <= MAX_GROWTH_BARS
    assert growth.bars[-1].start <= START + timedelta(days=3) < growth.bars[-1].start + growth.size
    assert sum(b.complaints for b in growth.bars) == 10 and growth.bars[-1].people == 10
    # Opened by a person: its first mark says so, not "confirmed".
    assert [(m.label, m.state) for m in growth.markers] == [("opened", IncidentState.CONFIRMED)]
