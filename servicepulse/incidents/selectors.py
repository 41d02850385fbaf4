"""Reads of the incidents app (the dashboard, status and engage apps call these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from servicepulse.incidents.models import (
    OPEN_STATES,
    ActivityType,
    AlertDelivery,
    AlertRule,
    DetectorSnapshot,
    Incident,
    IncidentState,
)
from servicepulse.incidents.readers import analysed_posts
from servicepulse.mentions.models import Mention


def incident_list(*, state: str = "", service_id: str = "", kind: str = "") -> QuerySet[Incident]:
    """Incidents newest first; ``state`` may be a state or "open"."""
    qs = Incident.objects.select_related("service")
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state:
        qs = qs.filter(state=state)
    if service_id:
        qs = qs.filter(service_id=service_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def open_incidents_by_service(*, service_ids: list[str]) -> dict[str, list[Incident]]:
    out: dict[str, list[Incident]] = {sid: [] for sid in service_ids}
    for incident in incident_list(state="open").filter(service_id__in=service_ids):
        out[incident.service_id].append(incident)
    return out


@dataclass
class TimelineItem:
    at: datetime
    state: str
    state_label: str
    note: str


@dataclass
class IncidentDetail:
    incident: Incident
    posts: list[Mention]
    explanation: dict[str, Any]
    timeline: list[TimelineItem]
    authors: list[str]
    deliveries: list[AlertDelivery]


def incident_detail(*, incident_id: int) -> IncidentDetail | None:
    incident = Incident.objects.select_related("service").filter(pk=incident_id).first()
    if incident is None:
        return None
    posts = list(
        Mention.objects.filter(incident_attachments__incident=incident)
        .select_related("source")
        .order_by("created_at", "id")
    )
    labels = dict(IncidentState.choices)
    timeline = []
    for activity in incident.activities.all():
        if activity.type == ActivityType.MENTIONS_ATTACHED:
            continue
        note = activity.comment or activity.get_type_display()
        timeline.append(
            TimelineItem(
                at=activity.at,
                state=activity.state,
                state_label=labels.get(activity.state, activity.get_type_display()),
                note=note,
            )
        )
    authors = list(dict.fromkeys(p.author or p.author_id or "anonymous" for p in posts))
    deliveries = list(incident.deliveries.select_related("rule"))
    return IncidentDetail(
        incident=incident,
        posts=posts,
        explanation=incident.explanation or {},
        timeline=timeline,
        authors=authors,
        deliveries=deliveries,
    )


def alert_rule_list() -> QuerySet[AlertRule]:
    return AlertRule.objects.prefetch_related("services")


def alert_delivery_list(*, incident_id: int | None = None) -> QuerySet[AlertDelivery]:
    qs = AlertDelivery.objects.select_related("rule", "incident")
    return qs.filter(incident_id=incident_id) if incident_id is not None else qs


def _expected_daily(snapshot: DetectorSnapshot | None, day_starts: list[datetime]) -> list[float]:
    """The baseline's complaints per day from a service's detector (hourly profile x weekday x level)."""
    if snapshot is None or not snapshot.state:
        return [0.0] * len(day_starts)
    from servicepulse.incidents.detection import Detector

    detector = Detector.from_state(snapshot.state)
    per_hour = 60 / detector.config.bucket_minutes
    out = []
    for start in day_starts:
        total = sum(detector.expected(start + timedelta(hours=h)) * per_hour for h in range(24))
        out.append(round(total, 1))
    return out


def daily_complaints(
    *, service_ids: list[str], days: int, now: datetime | None = None
) -> dict[str, tuple[list[int], list[float]]]:
    """Complaints per day (local days, oldest first, today last) per service, with the detector's
    baseline for those days."""
    now = now or timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [today - timedelta(days=days - 1 - i) for i in range(days)]
    counts = {sid: [0] * days for sid in service_ids}
    wanted = set(service_ids)
    for post in analysed_posts(since=starts[0], until=now, service_ids=service_ids):
        if not post.complaint:
            continue
        index = (timezone.localtime(post.created_at).date() - starts[0].date()).days
        if 0 <= index < days:
            for sid in set(post.service_ids) & wanted:
                counts[sid][index] += 1
    snapshots = {s.service_id: s for s in DetectorSnapshot.objects.filter(service_id__in=service_ids)}
    return {sid: (counts[sid], _expected_daily(snapshots.get(sid), starts)) for sid in service_ids}
