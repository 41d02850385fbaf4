"""What the status page needs from the incidents app: a detected incident's service, explanation and the
complaints attached to it. Read through the incidents app's models (its public surface); imported lazily so
the status page works in an install without detection."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DetectedIncident:
    id: int
    title: str
    state: str
    service_id: str
    service_name: str
    service_public: bool
    started_at: datetime
    affected_authors: int
    resolved_at: datetime | None = None
    summary: str = ""
    terms: list[str] = field(default_factory=list)
    representatives: list[str] = field(default_factory=list)


def detected_incident(*, incident_id: int) -> DetectedIncident | None:
    try:
        from servicepulse.incidents.models import Incident
    except ImportError:  # detection not installed
        return None
    incident = Incident.objects.select_related("service").filter(pk=incident_id).first()
    if incident is None:
        return None
    explanation: dict[str, Any] = incident.explanation or {}
    terms = [
        str(t.get("term")) for t in explanation.get("terms", []) if isinstance(t, dict) and t.get("term")
    ]
    return DetectedIncident(
        id=incident.pk,
        title=incident.title,
        state=incident.state,
        service_id=incident.service_id,
        service_name=incident.service.name,
        service_public=incident.service.public,
        started_at=incident.started_at,
        resolved_at=incident.resolved_at,
        affected_authors=int(explanation.get("affected_authors") or incident.affected_authors or 0),
        summary=str(explanation.get("summary") or ""),
        terms=terms,
        representatives=[str(p) for p in explanation.get("representatives", [])],
    )


def detected_incident_mention_ids(*, incident_id: int) -> list[int]:
    """Ids of the complaints attached ("me too") to a detected incident."""
    try:
        from servicepulse.incidents.models import IncidentMention
    except ImportError:
        return []
    return list(IncidentMention.objects.filter(incident_id=incident_id).values_list("mention_id", flat=True))


def confirmed_unpublished(*, published_ids: set[int], limit: int = 20) -> list[DetectedIncident]:
    """Confirmed detected incidents not yet on the status page (for the one-click publish list)."""
    try:
        from servicepulse.incidents.models import Incident
    except ImportError:
        return []
    ids = (
        Incident.objects.filter(state="confirmed")
        .exclude(pk__in=published_ids)
        .order_by("-started_at")
        .values_list("pk", flat=True)[:limit]
    )
    return [d for d in (detected_incident(incident_id=i) for i in ids) if d is not None]


def detection_maintenance_open(
    *, service_ids: list[str], title: str, starts_at: datetime, ends_at: datetime, user: Any = None
) -> list[int]:
    """Mirror a public maintenance window into the incidents app (one window per service), so detection
    raises nothing and complaints attach to it while it runs. Returns the incidents' ids."""
    try:
        from servicepulse.incidents.services import maintenance_schedule
    except ImportError:
        return []
    return [
        maintenance_schedule(service_id=sid, title=title, start=starts_at, end=ends_at, user=user).pk
        for sid in service_ids
    ]


def detection_maintenance_close(*, incident_ids: list[int], user: Any = None) -> None:
    """End the mirrored windows (a cancelled public maintenance)."""
    try:
        from servicepulse.incidents.models import Incident, IncidentState
        from servicepulse.incidents.services import incident_update_status
    except ImportError:
        return
    for incident in Incident.objects.filter(pk__in=incident_ids).exclude(state=IncidentState.RESOLVED):
        incident_update_status(
            incident=incident, state=IncidentState.RESOLVED, user=user, comment="cancelled"
        )


def detection_maintenance_active(*, service_id: str, at: datetime) -> bool:
    """True when the incidents app has a maintenance window for the service in progress at `at`."""
    try:
        from servicepulse.incidents.models import Incident, IncidentKind, IncidentState
    except ImportError:
        return False
    return (
        Incident.objects.filter(
            service_id=service_id,
            kind=IncidentKind.MAINTENANCE,
            started_at__lte=at,
            planned_end__gt=at,
        )
        .exclude(state=IncidentState.RESOLVED)
        .exists()
    )


def attached_service_ids(*, mention_ids: list[int]) -> dict[int, str]:
    """For mentions attached to a detected incident, that incident's service."""
    try:
        from servicepulse.incidents.models import IncidentMention
    except ImportError:
        return {}
    rows = IncidentMention.objects.filter(mention_id__in=mention_ids).values_list(
        "mention_id", "incident__service_id"
    )
    return dict(rows)


def detected_resolved_between(*, since: datetime, until: datetime) -> list[DetectedIncident]:
    """Detected or manual incidents (not maintenance) resolved in [since, until)."""
    try:
        from servicepulse.incidents.models import Incident, IncidentKind
    except ImportError:
        return []
    ids = (
        Incident.objects.filter(resolved_at__gte=since, resolved_at__lt=until)
        .exclude(kind=IncidentKind.MAINTENANCE)
        .order_by("resolved_at")
        .values_list("pk", flat=True)
    )
    return [d for d in (detected_incident(incident_id=i) for i in ids) if d is not None]
