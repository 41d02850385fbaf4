"""What the signed-in pages show, composed from the owning apps' selectors (through `readers`).

Each function returns plain dataclasses the templates render; the charts are drawn here too (inline SVG),
so views stay thin and the same figures serve the page and its tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.safestring import SafeString

from servicepulse.catalog.models import Service
from servicepulse.dashboard import charts
from servicepulse.dashboard.readers import app_function

SPARK_DAYS = 14
TREND_WEEKS = 4


class BoardState:
    CALM = "calm"
    POSSIBLE = "possible"
    INCIDENT = "incident"
    MAINTENANCE = "maintenance"
    LABELS = {CALM: "Calm", POSSIBLE: "Possible problem", INCIDENT: "Incident", MAINTENANCE: "Maintenance"}


@dataclass
class Score:
    """An experience score as a page shows it (from the experience app)."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    too_few: bool = True
    trend: str = ""  # "up", "down" or "" when the change is within noise
    target: float | None = None

    @property
    def meets_target(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target


@dataclass
class BoardRow:
    service: Service
    state: str = BoardState.CALM
    score: Score | None = None
    weeks: list[charts.ScorePoint] = field(default_factory=list)
    complaints: list[int] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    open_incidents: list[Any] = field(default_factory=list)
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


def daily_complaints(
    *, service_ids: list[str], days: int, now: datetime
) -> dict[str, tuple[list[int], list[float]]]:
    """Complaints per day per service and the typical volume for those days (incidents' signals)."""
    reader = app_function("servicepulse.incidents.selectors", "daily_complaints")
    if reader is not None:
        return reader(service_ids=service_ids, days=days, now=now)
    return {sid: ([0] * days, [0.0] * days) for sid in service_ids}


def weekly_scores(*, service_ids: list[str], weeks: int, now: datetime) -> dict[str, list[Score]]:
    reader = app_function("servicepulse.experience.selectors", "weekly_scores")
    if reader is not None:
        return reader(service_ids=service_ids, weeks=weeks, now=now)
    return {sid: [] for sid in service_ids}


def open_incidents_by_service(*, service_ids: list[str]) -> dict[str, list[Any]]:
    reader = app_function("servicepulse.incidents.selectors", "open_incidents_by_service")
    if reader is not None:
        return reader(service_ids=service_ids)
    return {sid: [] for sid in service_ids}


def _state(open_incidents: list[Any]) -> str:
    """The board state from a service's open incidents: the most severe one wins; none open is calm.

    An incident tells its board state through `board_state` (incident, possible or maintenance); one that
    does not say counts as an incident.
    """
    states = {getattr(i, "board_state", "") or BoardState.INCIDENT for i in open_incidents}
    for state in (BoardState.INCIDENT, BoardState.POSSIBLE, BoardState.MAINTENANCE):
        if state in states:
            return state
    return BoardState.CALM


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
            weeks=[charts.ScorePoint(start=w.start, value=w.value, low=w.low, high=w.high) for w in weeks]  # type: ignore[attr-defined]
            if weeks and hasattr(weeks[0], "start")
            else [],
        )
        row.state = _state(row.open_incidents)
        values = [w.value for w in weeks]
        shown = ", ".join("too few posts" if v is None else str(round(v)) for v in values) or "no scores yet"
        row.score_spark = charts.score_spark(
            values, label=f"{service.name}: experience score over the last {len(values)} weeks: {shown}"
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


def mention_search_q(query: str) -> Q:
    """Full-text-ish search over text and author: every word must appear (case-insensitive)."""
    q = Q()
    for word in query.split()[:8]:
        q &= Q(text__icontains=word) | Q(author__icontains=word)
    return q


@dataclass
class ServiceOverview:
    service: Service
    state: str
    score: Score | None
    open_incidents: list[Any]
    score_svg: SafeString
    volume_svg: SafeString
    themes: list[Any]
    recent: list[Any]
    complaints_week: int = 0
    baseline_week: float = 0.0

    @property
    def state_label(self) -> str:
        return BoardState.LABELS.get(self.state, self.state)


SERVICE_WEEKS = 12
SERVICE_DAYS = 28


def top_themes(*, service_id: str, since: datetime) -> list[Any]:
    reader = app_function("servicepulse.experience.selectors", "top_themes")
    return list(reader(service_id=service_id, since=since)) if reader is not None else []


def recent_mentions(*, service_id: str, limit: int) -> list[Any]:
    reader = app_function("servicepulse.analysis.selectors", "mentions_for_service")
    return list(reader(service_id=service_id)[:limit]) if reader is not None else []


def service_overview(*, service: Service, now: datetime | None = None) -> ServiceOverview:
    """The service page: score over time with band and target, complaints against baseline, themes, posts."""
    now = now or timezone.now()
    weeks = weekly_scores(service_ids=[service.id], weeks=SERVICE_WEEKS, now=now).get(service.id, [])
    counts, baseline = daily_complaints(service_ids=[service.id], days=SERVICE_DAYS, now=now).get(
        service.id, ([0] * SERVICE_DAYS, [0.0] * SERVICE_DAYS)
    )
    incidents = open_incidents_by_service(service_ids=[service.id]).get(service.id, [])
    target = service.target_score
    points = [charts.ScorePoint(start=w.start, value=w.value, low=w.low, high=w.high) for w in weeks]  # type: ignore[attr-defined]
    latest = weeks[-1] if weeks else None
    score_label = (
        f"Experience score of {service.name}, weekly, over {len(points)} weeks"
        + (f"; latest {round(latest.value)}" if latest is not None and latest.value is not None else "")
        + (f"; target {target}" if target is not None else "")
    )
    days = _day_starts(now, SERVICE_DAYS)
    overview = ServiceOverview(
        service=service,
        state=_state(incidents),
        score=latest,
        open_incidents=incidents,
        score_svg=charts.score_chart(points, target=target, label=score_label)
        if points
        else SafeString('<p class="muted">No experience scores yet.</p>'),
        volume_svg=charts.volume_chart(
            [d.strftime("%d %b") for d in days],
            counts,
            baseline,
            label=(
                f"Complaints about {service.name} per day over {SERVICE_DAYS} days "
                "against the typical volume; "
                f"last 7 days {sum(counts[-7:])}, typical {round(sum(baseline[-7:]))}"
            ),
        ),
        themes=top_themes(service_id=service.id, since=now - timedelta(days=7)),
        recent=recent_mentions(service_id=service.id, limit=20),
        complaints_week=sum(counts[-7:]),
        baseline_week=sum(baseline[-7:]),
    )
    return overview


def incident_queryset(*, state: str = "", service_id: str = "") -> Any:
    """Incidents newest first (the incidents app's selector), or None while that app has none."""
    reader = app_function("servicepulse.incidents.selectors", "incident_list")
    if reader is None:
        return None
    kwargs: dict[str, Any] = {}
    if state:
        kwargs["state"] = state
    if service_id:
        kwargs["service_id"] = service_id
    return reader(**kwargs)


def incident_page(*, pk: int) -> Any:
    """Everything the incident page shows (timeline, explanation, posts, authors), or None."""
    reader = app_function("servicepulse.incidents.selectors", "incident_detail")
    if reader is None:
        return None
    return reader(incident_id=pk)


def alert_rule_rows() -> list[Any] | None:
    reader = app_function("servicepulse.incidents.selectors", "alert_rule_list")
    return list(reader()) if reader is not None else None
