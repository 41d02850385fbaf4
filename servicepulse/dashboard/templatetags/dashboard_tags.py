"""Small reading helpers for the dashboard's templates."""

from __future__ import annotations

from django import template

from servicepulse.incidents.models import Incident, IncidentKind

register = template.Library()


@register.filter
def cancelled_before_start(incident: Incident) -> bool:
    """Planned maintenance ended before its window began: the work was called off, not done. The incidents
    app records it as resolved (its one ending state); the pages read it as cancelled, not as "completed"
    in no time."""
    return (
        incident.kind == IncidentKind.MAINTENANCE
        and incident.resolved_at is not None
        and incident.resolved_at < incident.started_at
    )
