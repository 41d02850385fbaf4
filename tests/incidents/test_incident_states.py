"""What the incident page may offer: the state changes the service allows, and notes within their limit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from servicepulse.incidents import selectors, services
from servicepulse.incidents.models import ActivityType, Incident, IncidentKind, IncidentState
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db
NOON = datetime(2025, 10, 16, 12, 0, tzinfo=UTC)


def make(state: IncidentState, kind: IncidentKind = IncidentKind.DETECTED) -> Incident:
    return Incident.objects.create(
        service=ServiceFactory(), kind=kind, state=state, title="Moodle down", started_at=NOON
    )


@pytest.mark.parametrize("state", list(IncidentState))
def test_next_states_are_exactly_those_the_service_accepts(state: IncidentState) -> None:
    offered = selectors.incident_next_states(state=state)
    assert offered, f"nothing offered from {state}"
    for target in IncidentState:
        if target == state:
            continue
        incident = make(state)
        if target in offered:
            assert services.incident_update_status(incident=incident, state=target).state == target
        else:
            with pytest.raises(services.IncidentError):
                services.incident_update_status(incident=incident, state=target)


def test_next_states_from_each_state() -> None:
    assert selectors.incident_next_states(state="possible") == [
        IncidentState.CONFIRMED,
        IncidentState.RESOLVED,
    ]
    assert selectors.incident_next_states(state="confirmed") == [IncidentState.RESOLVED]
    assert selectors.incident_next_states(state="resolved") == [IncidentState.CONFIRMED]
    # Maintenance is only ever ended, never turned into (or reopened as) a detected problem.
    assert selectors.incident_next_states(state="confirmed", maintenance=True) == [IncidentState.RESOLVED]
    assert selectors.incident_next_states(state="resolved", maintenance=True) == []
    assert selectors.incident_next_states(state="") == []


def test_a_note_over_the_limit_is_refused_saying_so() -> None:
    incident = make(IncidentState.CONFIRMED)
    with pytest.raises(
        services.IncidentError, match=r"a note is at most 4000 characters \(this one has 4001\)"
    ):
        services.incident_add_note(incident=incident, comment="x" * 4001)
    with pytest.raises(services.IncidentError, match="needs some text"):
        services.incident_add_note(incident=incident, comment="  \n ")
    assert not incident.activities.filter(type=ActivityType.NOTE).exists()
    note = services.incident_add_note(incident=incident, comment=" " + "x" * 4000 + " ")
    assert note.comment == "x" * 4000
