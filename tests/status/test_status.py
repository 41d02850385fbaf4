"""The public status page: components and states, incidents with updates, maintenance, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from servicepulse.catalog.models import Service
from servicepulse.status.links import StatusError
from servicepulse.status.models import ComponentState, Impact, IncidentStatus
from servicepulse.status.selectors import (
    component_history,
    component_states,
    maintenance_active,
    page_indicator,
)
from servicepulse.status.services import (
    maintenance_cancel,
    maintenance_schedule,
    public_incident_open,
    public_incident_update,
)
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def services():  # type: ignore[no-untyped-def]
    return {
        "vle": ServiceFactory(id="vle", name="Moodle VLE", order=1),
        "wifi": ServiceFactory(id="wifi", name="Wi-Fi (eduroam)", order=2),
        "hr": ServiceFactory(id="hr", name="HR system", public=False, order=3),
    }


def _state(service_id: str) -> str:
    return {s.service.id: s.state for s in component_states()}[service_id]


def test_components_are_public_services_all_operational_at_first(services) -> None:  # type: ignore[no-untyped-def]
    states = component_states()
    assert [s.service.id for s in states] == ["vle", "wifi"]
    assert {s.state for s in states} == {ComponentState.OPERATIONAL}
    assert page_indicator(states) == ("none", "All systems operational")


def test_incident_lifecycle_moves_status_and_component_state(services) -> None:  # type: ignore[no-untyped-def]
    incident = public_incident_open(
        title="Moodle is failing to load",
        service_ids=["vle"],
        impact=Impact.MAJOR_OUTAGE,
        body="Looking into it.",
    )
    assert incident.status == IncidentStatus.INVESTIGATING
    assert _state("vle") == ComponentState.MAJOR_OUTAGE
    assert _state("wifi") == ComponentState.OPERATIONAL
    public_incident_update(
        incident=incident, status=IncidentStatus.IDENTIFIED, body="A database node failed."
    )
    public_incident_update(
        incident=incident, status=IncidentStatus.MONITORING, body="Fixed, watching.", impact=Impact.DEGRADED
    )
    assert _state("vle") == ComponentState.DEGRADED
    public_incident_update(incident=incident, status=IncidentStatus.RESOLVED, body="All good.")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.resolved_at is not None
    assert [u.status for u in incident.updates.order_by("created_at", "id")] == [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
    ]
    assert _state("vle") == ComponentState.OPERATIONAL
    with pytest.raises(StatusError, match="resolved"):
        public_incident_update(incident=incident, status=IncidentStatus.MONITORING, body="again?")


def test_worst_incident_wins_and_non_public_services_are_refused(services) -> None:  # type: ignore[no-untyped-def]
    public_incident_open(title="Slow", service_ids=["vle"], impact=Impact.DEGRADED, body="slow")
    public_incident_open(title="Down", service_ids=["vle", "wifi"], impact=Impact.PARTIAL_OUTAGE, body="down")
    assert _state("vle") == ComponentState.PARTIAL_OUTAGE
    assert page_indicator(component_states())[0] == "major"
    with pytest.raises(StatusError, match="not a public component"):
        public_incident_open(title="HR", service_ids=["hr"], body="x")
    with pytest.raises(StatusError):
        public_incident_open(title="", service_ids=["vle"], body="x")


def test_maintenance_window_state_and_selector(services) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    window = maintenance_schedule(
        title="Moodle upgrade",
        service_ids=["vle"],
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=3),
    )
    assert not maintenance_active(service_id="vle", at=now)
    assert maintenance_active(service_id="vle", at=now + timedelta(hours=2))
    assert not maintenance_active(service_id="wifi", at=now + timedelta(hours=2))
    assert not maintenance_active(service_id="vle", at=now + timedelta(hours=3))
    assert _state("vle") == ComponentState.OPERATIONAL  # scheduled, not started
    states = {s.service.id: s.state for s in component_states(at=now + timedelta(hours=2))}
    assert states["vle"] == ComponentState.MAINTENANCE
    maintenance_cancel(maintenance=window)
    assert not maintenance_active(service_id="vle", at=now + timedelta(hours=2))
    with pytest.raises(StatusError, match="end after"):
        maintenance_schedule(title="x", service_ids=["vle"], starts_at=now, ends_at=now)


def test_history_has_90_days_coloured_by_worst_state(services) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    Service.objects.update(created_at=now - timedelta(days=200))  # known for longer than the 90 days
    three_days_ago = now - timedelta(days=3)
    minor = public_incident_open(
        title="Slow logins", service_ids=["vle"], impact=Impact.DEGRADED, body="slow", at=three_days_ago
    )
    major = public_incident_open(
        title="Moodle down", service_ids=["vle"], impact=Impact.MAJOR_OUTAGE, body="down", at=three_days_ago
    )
    for incident in (minor, major):
        public_incident_update(
            incident=incident,
            status=IncidentStatus.RESOLVED,
            body="ok",
            at=three_days_ago + timedelta(minutes=30),
        )
    history = component_history(at=now)
    assert set(history) == {"vle", "wifi"}
    days = history["vle"]
    assert len(days) == 90
    assert days[-1].day == timezone.localtime(now).date()
    bad = [d for d in days if d.state != ComponentState.OPERATIONAL]
    assert len(bad) in (1, 2)  # an incident across local midnight touches two days
    assert bad[0].state == ComponentState.MAJOR_OUTAGE
    assert "Major outage" in bad[0].text and "Moodle down" in bad[0].text
    assert all(d.state == ComponentState.OPERATIONAL for d in history["wifi"])
