"""What the signed-in pages show, composed from the owning apps' selectors.

The dashboard owns no data: complaints against the baseline come from the incidents app, experience scores
and themes from the experience app, labels and tagged posts from the analysis app. Each function here returns
plain dataclasses the templates render; the charts are drawn here too (inline SVG), so views stay thin and
the same figures serve the page and its tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString

from servicepulse.analysis.selectors import mentions_for_service
from servicepulse.catalog.models import Service
from servicepulse.dashboard import charts
from servicepulse.experience.score import ServiceScore
from servicepulse.experience.selectors import top_themes, weekly_scores
from servicepulse.incidents.models import AlertRule, Incident
from servicepulse.incidents.selectors import (
    IncidentDetail,
    alert_rule_list,
    daily_complaints,
    incident_detail,
    incident_list,
    open_incidents_by_service,
)

SPARK_DAYS = 14
TREND_WEEKS = 4
SERVICE_WEEKS = 12
SERVICE_DAYS = 28
RECENT_POSTS = 20


class BoardState:
    CALM = "calm"
    POSSIBLE = "possible"
    INCIDENT = "incident"
    MAINTENANCE = "maintenance"
    LABELS = {CALM: "Calm", POSSIBLE: "Possible problem", INCIDENT: "Incident", MAINTENANCE: "Maintenance"}


def board_state(open_incidents: list[Incident]) -> str:
    """A service's state from its open incidents: the most severe wins (incident, possible, maintenance)."""
    states = {incident.board_state for incident in open_incidents}
    for state in (BoardState.INCIDENT, BoardState.POSSIBLE, BoardState.MAINTENANCE):
        if state in states:
            return state
    return BoardState.CALM


@dataclass
class BoardRow:
    service: Service
    state: str = BoardState.CALM
    score: ServiceScore | None = None
    weeks: list[ServiceScore] = field(default_factory=list)
    complaints: list[int] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    open_incidents: list[Incident] = field(default_factory=list)
    spark: SafeString | None = None
    score_spark: SafeString | None = None

    @property
    def state_label(self) -> str:
        return BoardState.LABELS.get(self.state, self.state)

    @property
    def complaints_week(self) -> int:
        return sum(self.complaints[-7:])

    @property
    def baseline_week(self) -> float:
        return sum(self.baseline[-7:])


def _day_starts(now: datetime, days: int) -> list[datetime]:
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def _weeks_label(name: str, weeks: list[ServiceScore]) -> str:
    shown = ", ".join("too few posts" if w.value is None else str(round(w.value)) for w in weeks)
    return f"{name}: experience score over the last {len(weeks)} weeks: {shown or 'no scores yet'}"


def board_rows(*, now: datetime | None = None) -> list[BoardRow]:
    """Every service with its state, score and trend, complaints against baseline, open incidents."""
    now = now or timezone.now()
    services = list(Service.objects.all())
    ids = [s.id for s in services]
    volumes = daily_complaints(service_ids=ids, days=SPARK_DAYS, now=now)
    scores = weekly_scores(service_ids=ids, weeks=TREND_WEEKS, now=now)
    incidents = open_incidents_by_service(service_ids=ids)
    rows = []
    for service in services:
        counts, baseline = volumes.get(service.id, ([0] * SPARK_DAYS, [0.0] * SPARK_DAYS))
        weeks = scores.get(service.id, [])
        row = BoardRow(
            service=service,
            complaints=list(counts),
            baseline=list(baseline),
            open_incidents=incidents.get(service.id, []),
            score=weeks[-1] if weeks else None,
            weeks=weeks,
        )
        row.state = board_state(row.open_incidents)
        row.score_spark = charts.score_spark(
            [w.value for w in weeks], label=_weeks_label(service.name, weeks)
        )
        row.spark = charts.sparkline(
            row.complaints,
            baseline=row.baseline,
            label=(
                f"{service.name}: {row.complaints_week} complaints in the last 7 days, "
                f"typical {round(row.baseline_week)}"
            ),
        )
        rows.append(row)
    return rows


@dataclass
class ServiceOverview:
    service: Service
    state: str
    score: ServiceScore | None
    open_incidents: list[Incident]
    score_svg: SafeString
    volume_svg: SafeString
    themes: list[Any]
    recent: list[Any]
    complaints_week: int = 0
    baseline_week: float = 0.0

    @property
    def state_label(self) -> str:
        return BoardState.LABELS.get(self.state, self.state)


def service_overview(*, service: Service, now: datetime | None = None) -> ServiceOverview:
    """The service page: score over time with band and target, complaints against baseline, themes, posts."""
    now = now or timezone.now()
    weeks = weekly_scores(service_ids=[service.id], weeks=SERVICE_WEEKS, now=now).get(service.id, [])
    counts, baseline = daily_complaints(service_ids=[service.id], days=SERVICE_DAYS, now=now).get(
        service.id, ([0] * SERVICE_DAYS, [0.0] * SERVICE_DAYS)
    )
    incidents = open_incidents_by_service(service_ids=[service.id]).get(service.id, [])
    target = service.target_score
    points = [charts.ScorePoint(start=w.start, value=w.value, low=w.low, high=w.high) for w in weeks]
    latest = weeks[-1] if weeks else None
    score_label = f"Experience score of {service.name}, week by week, over {len(points)} weeks"
    if latest is not None and latest.value is not None:
        score_label += f"; latest {round(latest.value)}"
    if target is not None:
        score_label += f"; target {target}"
    days = _day_starts(now, SERVICE_DAYS)
    return ServiceOverview(
        service=service,
        state=board_state(incidents),
        score=latest,
        open_incidents=incidents,
        score_svg=charts.score_chart(points, target=target, label=score_label)
        if any(p.value is not None for p in points)
        else SafeString('<p class="muted">Too few posts for a score yet.</p>'),
        volume_svg=charts.volume_chart(
            [d.strftime("%d %b") for d in days],
            counts,
            baseline,
            label=(
                f"Complaints about {service.name} per day over {SERVICE_DAYS} days against the typical "
                f"volume; last 7 days {sum(counts[-7:])}, typical {round(sum(baseline[-7:]))}"
            ),
        ),
        themes=list(top_themes(service_id=service.id, since=now - timedelta(days=7), until=now)),
        recent=list(mentions_for_service(service_id=service.id)[:RECENT_POSTS]),
        complaints_week=sum(counts[-7:]),
        baseline_week=sum(baseline[-7:]),
    )


def incident_queryset(*, state: str = "", service_id: str = "") -> QuerySet[Incident]:
    """Incidents newest first, filtered by state ("open" or a state) and service."""
    return incident_list(state=state, service_id=service_id)


def incident_page(*, pk: int) -> IncidentDetail | None:
    """Everything the incident page shows (timeline, explanation, posts, authors, alerts), or None."""
    return incident_detail(incident_id=pk)


def alert_rule_rows() -> QuerySet[AlertRule]:
    return alert_rule_list()


def mention_search_q(query: str) -> Q:
    """Search over text and author: every word must appear (case-insensitive)."""
    q = Q()
    for word in query.split()[:8]:
        q &= Q(text__icontains=word) | Q(author__icontains=word)
    return q
