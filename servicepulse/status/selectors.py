"""Reads for the public status page, its feed, JSON summary and badges, and for other apps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from servicepulse.analysis.selectors import history_started
from servicepulse.catalog.models import Service
from servicepulse.incidents.models import Incident, IncidentKind, IncidentState
from servicepulse.incidents.selectors import maintenance_in_progress
from servicepulse.status.links import ALL_COMPONENTS, confirm_data, unsubscribe_ids
from servicepulse.status.models import (
    SEVERITY,
    ComponentState,
    IncidentStatus,
    IncidentUpdate,
    Maintenance,
    PublicIncident,
    Subscription,
)

HISTORY_DAYS = 90
NO_DATA = "no_data"  # a day before servicepulse knew the component: neither operational nor an incident


def worst(states: list[str]) -> str:
    """The worst of `states` (operational when empty)."""
    return max(states, key=lambda s: SEVERITY[s], default=ComponentState.OPERATIONAL)


def maintenance_active(*, service_id: str, at: datetime) -> bool:
    """True when a maintenance window covering `service_id` is in progress at `at` (not cancelled).

    The incidents app may call this to keep detection alerts quiet during planned work. Windows scheduled
    here are also mirrored into the incidents app's own maintenance windows, and those count too.
    """
    return Maintenance.objects.filter(
        services__id=service_id, starts_at__lte=at, ends_at__gt=at, cancelled_at__isnull=True
    ).exists() or maintenance_in_progress(service_id=service_id, at=at)


def component_list() -> QuerySet[Service]:
    """The status page's components: the catalogue's public services, in catalogue order."""
    return Service.objects.filter(public=True).order_by("order", "name")


@dataclass
class ComponentStatus:
    service: Service
    state: str
    incidents: list[PublicIncident] = field(default_factory=list)
    maintenances: list[Maintenance] = field(default_factory=list)

    @property
    def label(self) -> str:
        return ComponentState(self.state).label


def public_incident_list(
    *, unresolved_only: bool = False, since: datetime | None = None, public: bool = True
) -> QuerySet[PublicIncident]:
    """Status page incidents, newest first. As the public sees them (`public`, the default): those of at least
    one public service, each listing only its public services (a service made internal after an incident was
    posted about it is not the public's to read, as for maintenance windows). `public=False`: all of them with
    every service, for the staff's pages."""
    services = Prefetch("services", queryset=component_list()) if public else "services"
    qs = PublicIncident.objects.prefetch_related(
        services, Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-created_at", "-id"))
    )
    if public:
        qs = qs.filter(services__public=True).distinct()
    if unresolved_only:
        qs = qs.exclude(status=IncidentStatus.RESOLVED)
    if since is not None:
        qs = qs.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=since))
    return qs


def public_maintenance() -> QuerySet[Maintenance]:
    """Maintenance windows as the public sees them: those of at least one public service, each listing only
    its public services. A window may also cover internal services, to keep their detection quiet; their
    names are not the public's to read."""
    return (
        Maintenance.objects.filter(services__public=True)
        .distinct()
        .prefetch_related(Prefetch("services", queryset=component_list()))
    )


def maintenance_list(
    *, at: datetime | None = None, upcoming_or_active: bool = True, public: bool = True
) -> QuerySet[Maintenance]:
    """Maintenance windows not cancelled (those still to end, unless `upcoming_or_active` is False): as the
    public sees them (`public_maintenance`), or all of them with every service for the staff's pages."""
    at = at or timezone.now()
    every = Maintenance.objects.prefetch_related("services")
    qs = (public_maintenance() if public else every).filter(cancelled_at__isnull=True)
    if upcoming_or_active:
        qs = qs.filter(ends_at__gt=at)
    return qs.order_by("starts_at", "id")


def component_states(*, at: datetime | None = None) -> list[ComponentStatus]:
    """Every component with its current state: the worst impact of its unresolved incidents, else
    maintenance while a window is in progress, else operational."""
    at = at or timezone.now()
    statuses = {s.id: ComponentStatus(service=s, state=ComponentState.OPERATIONAL) for s in component_list()}
    for incident in public_incident_list(unresolved_only=True):
        for service in incident.services.all():
            if service.id in statuses:
                statuses[service.id].incidents.append(incident)
    for window in maintenance_list(at=at):
        if window.starts_at <= at:
            for service in window.services.all():
                if service.id in statuses:
                    statuses[service.id].maintenances.append(window)
    for status in statuses.values():
        states = [i.impact for i in status.incidents] + [ComponentState.MAINTENANCE] * bool(
            status.maintenances
        )
        status.state = worst(states)
    return list(statuses.values())


def component_state(*, service_id: str, at: datetime | None = None) -> ComponentStatus | None:
    for status in component_states(at=at):
        if status.service.id == service_id:
            return status
    return None


def page_indicator(states: list[ComponentStatus]) -> tuple[str, str]:
    """Statuspage's overall indicator (none, minor, major, critical, maintenance) and its sentence."""
    if not states:  # nothing is listed: "all systems operational" would vouch for services nobody named
        return "none", "No services are listed on this status page yet"
    state = worst([s.state for s in states])
    return {
        ComponentState.OPERATIONAL: ("none", "All systems operational"),
        ComponentState.MAINTENANCE: ("maintenance", "Service under maintenance"),
        ComponentState.DEGRADED: ("minor", "Minor service disruption"),
        ComponentState.PARTIAL_OUTAGE: ("major", "Partial system outage"),
        ComponentState.MAJOR_OUTAGE: ("critical", "Major system outage"),
    }[ComponentState(state)]


@dataclass(frozen=True)
class DayStatus:
    day: date
    state: str
    titles: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return "No data" if self.state == NO_DATA else ComponentState(self.state).label

    @property
    def text(self) -> str:
        """What a screen reader hears for this day's bar."""
        base = f"{self.day:%d %B %Y}: {self.label}"
        return f"{base} ({'; '.join(self.titles)})" if self.titles else base


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()), tz)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()), tz)
    return start, end


def component_history(*, days: int = HISTORY_DAYS, at: datetime | None = None) -> dict[str, list[DayStatus]]:
    """For each component, one `DayStatus` per local calendar day over the last `days` days (oldest first),
    coloured by the worst incident impact or maintenance that touched the day. Days before servicepulse had
    anything on the component (its entry in the catalogue, its first post, incident or maintenance) are
    `NO_DATA`: nobody can say it was operational then."""
    at = at or timezone.now()
    today = timezone.localtime(at).date()
    first = today - timedelta(days=days - 1)
    window_start, _ = _local_day_bounds(first)
    components = list(component_list())
    spans: dict[str, list[tuple[datetime, datetime, str, str]]] = {s.id: [] for s in components}
    known_from = history_started(services=components)
    incidents = PublicIncident.objects.prefetch_related("services").filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=window_start), started_at__lte=at
    )
    for incident in incidents:
        end = incident.resolved_at or at
        for service in incident.services.all():
            if service.id in spans:
                spans[service.id].append((incident.started_at, end, incident.impact, incident.title))
    windows = Maintenance.objects.prefetch_related("services").filter(
        cancelled_at__isnull=True, ends_at__gte=window_start, starts_at__lte=at
    )
    for window in windows:
        for service in window.services.all():
            if service.id in spans:
                spans[service.id].append(
                    (window.starts_at, min(window.ends_at, at), ComponentState.MAINTENANCE, window.title)
                )
    history: dict[str, list[DayStatus]] = {}
    bounds = [(first + timedelta(days=i), *_local_day_bounds(first + timedelta(days=i))) for i in range(days)]
    for service_id, service_spans in spans.items():
        since = min([known_from[service_id], *(span[0] for span in service_spans)])
        known_day = timezone.localtime(since).date()
        row = []
        for day, start, end in bounds:
            if day < known_day:
                row.append(DayStatus(day=day, state=NO_DATA))
                continue
            hits = [(state, title) for s, e, state, title in service_spans if s < end and e >= start]
            row.append(
                DayStatus(
                    day=day,
                    state=worst([h[0] for h in hits]),
                    titles=tuple(dict.fromkeys(h[1] for h in hits)),
                )
            )
        history[service_id] = row
    return history


def days_with_data(days: list[DayStatus]) -> int:
    """How many of `days` servicepulse knew the component on (what the uptime figure is over)."""
    return sum(1 for d in days if d.state != NO_DATA)


def uptime_percent(days: list[DayStatus]) -> float:
    """Share of days no incident touched, whatever its impact (planned maintenance does not count), to two
    decimals, over the days with data only. 100 means not one incident day: a share that would round up to
    it is shown as 99.99."""
    days = [d for d in days if d.state != NO_DATA]
    if not days:
        return 100.0
    hit = sum(1 for d in days if d.state not in (ComponentState.OPERATIONAL, ComponentState.MAINTENANCE))
    share = round(100.0 * (len(days) - hit) / len(days), 2)
    return min(share, 99.99) if hit else share


def status_url(*, incident: PublicIncident | None = None) -> str:
    """The absolute URL of the status page (or of one incident on it), for replies and e-mails."""
    base = f"{settings.BASE_URL}/status/"
    return f"{base}incidents/{incident.pk}/" if incident is not None else base


def summary(*, at: datetime | None = None) -> dict[str, Any]:
    """The JSON summary, shaped like Statuspage's `summary.json` so existing widgets can read it."""
    at = at or timezone.now()
    states = component_states(at=at)
    indicator, description = page_indicator(states)
    incidents = public_incident_list(unresolved_only=True)
    maintenances = [m for m in maintenance_list(at=at)]
    return {
        "page": {
            "name": f"{settings.SERVICEPULSE_ORGANISATION} IT status",
            "url": status_url(),
            "updated_at": at.isoformat(),
        },
        "status": {"indicator": indicator, "description": description},
        "components": [
            {
                "id": s.service.id,
                "name": s.service.name,
                "description": s.service.description,
                "status": s.state,
                "badge": f"{settings.BASE_URL}/status/badge/{s.service.id}.svg",
            }
            for s in states
        ],
        "incidents": [
            {
                "id": i.pk,
                "name": i.title,
                "status": i.status,
                "impact": i.impact,
                "started_at": i.started_at.isoformat(),
                "shortlink": status_url(incident=i),
                "components": [s.id for s in i.services.all()],
                "incident_updates": [
                    {"status": u.status, "body": u.body, "created_at": u.created_at.isoformat()}
                    for u in i.updates.all()
                ],
            }
            for i in incidents
        ],
        "scheduled_maintenances": [
            {
                "id": m.pk,
                "name": m.title,
                "status": m.state_at(at),
                "scheduled_for": m.starts_at.isoformat(),
                "scheduled_until": m.ends_at.isoformat(),
                "components": [s.id for s in m.services.all()],
            }
            for m in maintenances
        ],
    }


def subscribers_for(*, service_ids: list[str]) -> list[Subscription]:
    """Active subscriptions covering any of `service_ids` (or every component)."""
    return list(
        Subscription.objects.filter(unsubscribed_at__isnull=True)
        .filter(Q(service_id__in=service_ids) | Q(service__isnull=True))
        .order_by("email", "service_id")
    )


def feed_items(*, limit: int = 50) -> list[PublicIncident | Maintenance]:
    """Incidents and maintenance windows for the Atom feed, most recently changed first."""
    incidents = list(public_incident_list()[:limit])
    windows = list(public_maintenance().order_by("-updated_at")[:limit])
    items: list[PublicIncident | Maintenance] = [*incidents, *windows]
    items.sort(key=lambda item: item.updated_at, reverse=True)
    return items[:limit]


def detected_publishable(*, incident: Incident) -> bool:
    """What the one-click publish offers: a confirmed incident, or a resolved one that was confirmed (a rise
    that faded unconfirmed was never an outage), not maintenance, of a service shown publicly."""
    return (
        incident.kind != IncidentKind.MAINTENANCE
        and incident.service.public
        and (
            incident.state == IncidentState.CONFIRMED
            or (incident.state == IncidentState.RESOLVED and incident.confirmed_at is not None)
        )
    )


def public_incident_id_for(*, detected_incident_id: int) -> int | None:
    """The public incident published from this detected incident, if any."""
    return (
        PublicIncident.objects.filter(detected_incident_id=detected_incident_id)
        .values_list("pk", flat=True)
        .first()
    )


def published_detected_ids() -> set[int]:
    """Ids of detected incidents (incidents app) already published as public incidents."""
    return {
        i
        for i in PublicIncident.objects.filter(detected_incident_id__isnull=False).values_list(
            "detected_incident_id", flat=True
        )
        if i is not None
    }


def subscription_pending(*, token: str) -> dict[str, Any]:
    """What an opt-in link would confirm: {"email": ..., "components": [names]}. Raises StatusError for a link
    that is not valid or has expired."""
    data = confirm_data(token)
    names = (
        ["every component"]
        if data["s"] == [ALL_COMPONENTS]
        else list(component_list().filter(id__in=data["s"]).values_list("name", flat=True))
    )
    return {"email": data["e"], "components": names}


def subscription_unsubscribe_pending(*, token: str) -> dict[str, Any]:
    """What an unsubscribe link would stop: {"email": ..., "components": [names]}, the components of its
    subscriptions still active (none when they have ended). Raises StatusError for a link that is not
    valid."""
    subs = list(Subscription.objects.filter(pk__in=unsubscribe_ids(token)).select_related("service"))
    return {
        "email": subs[0].email if subs else "",
        "components": [
            s.service.name if s.service else "every component" for s in subs if s.unsubscribed_at is None
        ],
    }
