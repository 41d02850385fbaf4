"""A week of analysed posts (2026-W47) about two services, the week before, tickets and an incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from servicepulse.analysis.services import analysis_save
from servicepulse.experience.services import tickets_import_records
from servicepulse.incidents.models import IncidentKind, IncidentState
from servicepulse.incidents.services import incident_create, incident_update_status
from tests.factories import MentionFactory, ServiceFactory, SourceFactory

WEEK = "2026-W47"
MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # London is on GMT in November


@dataclass
class Week:
    label: str
    monday: datetime


def analysed(source, *, at, text, sentiment, complaint=False, spam=False, services=("vle",), author=None):  # type: ignore[no-untyped-def]
    mention = MentionFactory(
        source=source, created_at=at, text=text, **({"author": author} if author else {})
    )
    analysis_save(
        mention=mention,
        complaint=complaint,
        complaint_score=0.9 if complaint else 0.1,
        sentiment=sentiment,
        sentiment_score={"positive": 0.8, "negative": -0.8}.get(sentiment, 0.0),
        spam=spam,
        spam_score=0.95 if spam else 0.02,
        services=[(s, 0.9) for s in services],
    )
    return mention


@pytest.fixture
def week(db) -> Week:  # type: ignore[no-untyped-def]
    ServiceFactory(id="vle", name="Moodle VLE", aliases=["moodle"], target_score=0, order=0)
    ServiceFactory(id="wifi", name="Wi-Fi", aliases=["eduroam"], target_score=10, order=1)
    source = SourceFactory(name="Students (Facebook)", kind="facebook")
    at = MONDAY + timedelta(days=1, hours=9)
    # This week: the VLE mostly complained about (an upload error), a little praise; Wi-Fi barely mentioned.
    for i in range(16):
        analysed(
            source,
            at=at + timedelta(minutes=7 * i),
            text=f"moodle upload error again on my essay, attempt {i}",
            sentiment="negative",
            complaint=True,
            author=f"student{i}",
        )
    for i in range(4):
        analysed(
            source,
            at=at + timedelta(hours=5, minutes=i),
            text="moodle quiz page works great",
            sentiment="positive",
        )
    for i in range(4):
        analysed(
            source,
            at=at + timedelta(hours=6, minutes=i),
            text="reading the week 5 slides on moodle",
            sentiment="neutral",
        )
    for i in range(30):  # spam praising the VLE must not lift its score
        analysed(
            source,
            at=at + timedelta(hours=7, minutes=i),
            text="best essay help dm me",
            sentiment="positive",
            spam=True,
        )
    for i in range(3):
        analysed(
            source,
            at=at + timedelta(hours=2, minutes=i),
            text="eduroam is fine",
            sentiment="positive",
            services=("wifi",),
        )
    # The week before: the VLE was liked.
    before = at - timedelta(days=7)
    for i in range(12):
        analysed(
            source, at=before + timedelta(minutes=i), text="moodle is fast this term", sentiment="positive"
        )
    for i in range(8):
        analysed(
            source, at=before + timedelta(minutes=30 + i), text="moodle module page", sentiment="neutral"
        )
    for i in range(2):
        analysed(
            source,
            at=before + timedelta(minutes=60 + i),
            text="moodle slow",
            sentiment="negative",
            complaint=True,
        )

    # Service-desk tickets and an incident the chatter raised before the desk heard of it.
    def ticket(
        ref: str, service: str, priority: str, opened_h: int, resolved_h: int | None
    ) -> dict[str, str]:
        resolved = "" if resolved_h is None else (at + timedelta(hours=resolved_h)).isoformat()
        opened = (at + timedelta(hours=opened_h)).isoformat()
        return {
            "opened": opened,
            "resolved": resolved,
            "service": service,
            "priority": priority,
            "reference": ref,
        }

    tickets_import_records(
        records=[
            ticket("T1", "vle", "P2", 2, 3),
            ticket("T2", "vle", "P2", 3, 30),
            ticket("T3", "wifi", "P4", 4, None),
        ],
        origin="test",
    )
    incident = incident_create(
        service_id="vle",
        title="Moodle VLE: upload errors",
        started_at=at,
        kind=IncidentKind.DETECTED,
        state=IncidentState.POSSIBLE,
        at=at + timedelta(minutes=20),
    )
    incident_update_status(incident=incident, state=IncidentState.CONFIRMED, at=at + timedelta(minutes=35))
    incident_update_status(incident=incident, state=IncidentState.RESOLVED, at=at + timedelta(hours=3))
    return Week(label=WEEK, monday=MONDAY)
