"""What the signed-in pages show, composed from the owning apps' selectors, models and score functions.

Counts per service and day come from the dashboard's rollup of the analysis app's service tags (finished days
stored in `ServiceDay`, today and yesterday counted live), so the board reads a few hundred rows whatever the
number of posts. The typical volume is the incidents app's detector baseline (its `DetectorSnapshot`),
the score and its interval and trend are the experience app's (`experience.score`), open incidents and their
explanations the incidents app's, themes the experience app's, posts the analysis app's. Each function returns
plain dataclasses the templates render; the charts are drawn here too (inline SVG), so views stay thin.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Upper
from django.db.models.lookups import Regex
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from servicepulse.analysis.selectors import history_started, mentions_for_service
from servicepulse.catalog.models import Service
from servicepulse.core.output import spreadsheet_cell
from servicepulse.core.times import local_time_text
from servicepulse.dashboard import charts
from servicepulse.dashboard.models import ServiceDay
from servicepulse.dashboard.services import LIVE_DAYS, DayCounts, count_days, local_day_start, rollup_catch_up
from servicepulse.experience.score import MIN_POSTS, ServiceScore, score_from_counts, score_trend
from servicepulse.experience.selectors import top_themes
from servicepulse.incidents.detection import Detector, DetectorConfig
from servicepulse.incidents.models import (
    OPEN_STATES,
    AlertDelivery,
    AlertRule,
    DetectorSnapshot,
    Incident,
    IncidentKind,
)
from servicepulse.incidents.selectors import (
    IncidentDetail,
    alert_rule_list,
    incident_detail,
    incident_list,
    open_incidents_by_service,
)

logger = logging.getLogger(__name__)

SPARK_DAYS = 14
TREND_WEEKS = 4
SERVICE_WEEKS = 12
SERVICE_DAYS = 28
RECENT_POSTS = 20
THEMES_CACHE_SECONDS = 600
LIVE_CACHE_SECONDS = 60
LIVE_GENERATION_KEY = "dashboard:live:generation"


def live_counts_forget() -> None:
    """Drop the cached live counts and themes (after labels were corrected or a person erased), so the next
    page counts afresh."""
    try:
        cache.incr(LIVE_GENERATION_KEY)
    except ValueError:
        cache.set(LIVE_GENERATION_KEY, 1, None)


class BoardState:
    LEARNING = "learning"
    CALM = "calm"
    POSSIBLE = "possible"
    INCIDENT = "incident"
    MAINTENANCE = "maintenance"
    LABELS = {
        LEARNING: "Learning",
        CALM: "Calm",
        POSSIBLE: "Possible problem",
        INCIDENT: "Incident",
        MAINTENANCE: "Maintenance",
    }


WARMUP = timedelta(hours=DetectorConfig().warmup_hours)
LEARNING_HELP = (
    f"Detection starts after {round(WARMUP / timedelta(hours=1))} hours of history: until then servicepulse "
    "learns this service's usual level of complaints and raises nothing."
)


def detectors_for(*, service_ids: list[str]) -> dict[str, Detector]:
    """Each service's stored detector, read once per page (the baseline and the learning state both need
    it); a service with none, or with a state from another version, is left out."""
    out: dict[str, Detector] = {}
    for snapshot in DetectorSnapshot.objects.filter(service_id__in=service_ids):
        if not snapshot.state:
            continue
        try:
            out[snapshot.service_id] = Detector.from_state(snapshot.state)
        except (ValueError, KeyError, TypeError):  # a state from another version: no baseline, not a 500
            continue
    return out


def learning_until(
    *, services: list[Service], now: datetime, detectors: dict[str, Detector] | None = None
) -> dict[str, datetime]:
    """The services whose detection is still learning (docs/detection.md, "learning"), with when it ends:
    48 hours from the start of the service's history (its creation, or its first day with posts when those
    go back further), and no sooner than its detector has seen 48 hours. Services done learning are left
    out."""
    ids = [s.id for s in services]
    started = history_started(services=services)
    detectors = detectors if detectors is not None else detectors_for(service_ids=ids)
    out: dict[str, datetime] = {}
    for service in services:
        until = started[service.id] + WARMUP
        detector = detectors.get(service.id)
        if detector is not None and detector.warming_up and detector.last_timestamp is not None:
            bucket = timedelta(minutes=detector.config.bucket_minutes)
            left = WARMUP - bucket * detector.n
            until = max(until, detector.last_timestamp + bucket + left)
        if until > now:
            out[service.id] = until
    return out


def board_state(
    open_incidents: list[Incident], *, now: datetime, learning_until: datetime | None = None
) -> str:
    """A service's state from its open incidents: the most severe wins (incident, possible, maintenance).
    A maintenance window counts only while it is in progress: one planned for tomorrow leaves the service
    calm today (it is still listed under the service). Without any, a service whose detection is still
    learning is "learning", not calm: nothing could have been raised yet."""
    states = {
        incident.board_state
        for incident in open_incidents
        if incident.kind != IncidentKind.MAINTENANCE
        or (incident.started_at <= now and (incident.planned_end is None or now < incident.planned_end))
    }
    for state in (BoardState.INCIDENT, BoardState.POSSIBLE, BoardState.MAINTENANCE):
        if state in states:
            return state
    if learning_until is not None and now < learning_until:
        return BoardState.LEARNING
    return BoardState.CALM


def _state_label(state: str, learning_until: datetime | None) -> str:
    label = BoardState.LABELS.get(state, state)
    if state == BoardState.LEARNING and learning_until is not None:
        label += f" (until {local_time_text(learning_until)})"
    return label


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
    learning_until: datetime | None = None

    @property
    def state_label(self) -> str:
        return _state_label(self.state, self.learning_until)

    @property
    def state_help(self) -> str:
        return LEARNING_HELP if self.state == BoardState.LEARNING else ""

    @property
    def complaints_week(self) -> int:
        return sum(self.complaints[-7:])

    @property
    def baseline_week(self) -> float:
        return sum(self.baseline[-7:])


def _day_starts(now: datetime, days: int) -> list[datetime]:
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def day_counts(*, service_ids: list[str], first: date, last: date) -> dict[str, dict[date, DayCounts]]:
    """Counts per service and local day in [first, last]: finished days from the rollup, the live days counted
    now. Brings the rollup up to date first (one query when it already is)."""
    today = timezone.localdate()
    try:
        rollup_catch_up(today=today)
    except DatabaseError:  # another request is closing the same days right now; read what is there
        logger.info("dashboard rollup catch-up raced with another request; reading as is")
    live_from = today - timedelta(days=LIVE_DAYS - 1)
    out: dict[str, dict[date, DayCounts]] = {sid: {} for sid in service_ids}
    stored = ServiceDay.objects.filter(
        service_id__in=service_ids, day__gte=first, day__lte=min(last, live_from - timedelta(days=1))
    ).values_list("service_id", "day", "posts", "complaints", "positive", "negative", "neutral", "spam")
    for sid, day, *values in stored:
        out[sid][day] = DayCounts(*values)
    if last >= live_from:
        for (sid, day), counts in live_counts(
            start=max(first, live_from), end=last, service_ids=service_ids
        ).items():
            if sid in out:
                out[sid][day] = counts
    return out


def live_counts(*, start: date, end: date, service_ids: list[str]) -> dict[tuple[str, date], DayCounts]:
    """Today's counts for every service, kept one minute: detection itself runs every five minutes, and a
    busy board (every open tab refreshes each minute) then costs one count a minute, not one per request."""
    generation = cache.get(LIVE_GENERATION_KEY, 0)
    minute = int(timezone.now().timestamp()) // LIVE_CACHE_SECONDS
    scope = hashlib.sha256(",".join(sorted(service_ids)).encode()).hexdigest()[:16]
    key = f"dashboard:live:{generation}:{start}:{end}:{minute}:{scope}"
    counts = cache.get(key)
    if counts is None:
        counts = count_days(start=start, end=end, service_ids=service_ids)
        cache.set(key, counts, LIVE_CACHE_SECONDS)
    return counts


def _typical_day(detector: Detector, start: datetime, *, until: datetime | None) -> float:
    """The complaints that usually come over the day from `start` (the detector's calibrated `usual`), up to
    `until` when that falls inside it (the current hour in proportion)."""
    per_hour = 60 / detector.config.bucket_minutes
    total = 0.0
    for h in range(24):
        hour = start + timedelta(hours=h)
        share = 1.0 if until is None else min(max((until - hour) / timedelta(hours=1), 0.0), 1.0)
        if share <= 0:
            break
        total += detector.usual(timezone.localtime(hour)) * per_hour * share  # learnt in local time
    return round(total, 1)


def expected_daily(
    *,
    service_ids: list[str],
    days: list[datetime],
    until: datetime | None = None,
    detectors: dict[str, Detector] | None = None,
) -> dict[str, list[float]]:
    """The typical complaints per day for each service: its detector's baseline (hour-of-day x weekday x
    calendar), summed over each day's hours, and only up to `until` (now): today's typical is what usually
    comes by this hour, as today's count is, not what comes by midnight. Zero while a service's detector has
    not learnt anything."""
    out = {sid: [0.0] * len(days) for sid in service_ids}
    detectors = detectors if detectors is not None else detectors_for(service_ids=service_ids)
    for sid, detector in detectors.items():
        if sid in out:
            out[sid] = [_typical_day(detector, start, until=until) for start in days]
    return out


def complaints_against_baseline(
    *,
    service_ids: list[str],
    days: int,
    now: datetime,
    counts: dict[str, dict[date, DayCounts]] | None = None,
    detectors: dict[str, Detector] | None = None,
) -> dict[str, tuple[list[int], list[float]]]:
    """Complaints per local day (oldest first, today last) and the typical volume for those days."""
    starts = _day_starts(now, days)
    first, last = starts[0].date(), starts[-1].date()
    counts = counts if counts is not None else day_counts(service_ids=service_ids, first=first, last=last)
    baseline = expected_daily(service_ids=service_ids, days=starts, until=now, detectors=detectors)
    return {
        sid: (
            [counts.get(sid, {}).get(d.date(), DayCounts()).complaints for d in starts],
            baseline[sid],
        )
        for sid in service_ids
    }


def weekly_scores(
    *,
    service_ids: list[str],
    weeks: int,
    now: datetime,
    counts: dict[str, dict[date, DayCounts]] | None = None,
    targets: dict[str, int | None] | None = None,
) -> dict[str, list[ServiceScore]]:
    """The last `weeks` seven-day windows of local days ending today, oldest first, each with its trend
    against the window before (so the latest point is always a full week, today included). `targets`, each
    service's target score, is read from the catalogue unless given."""
    today = timezone.localdate(now)
    ends = [today - timedelta(days=7 * (weeks - i)) for i in range(weeks + 1)]  # ends[0]: the extra window
    first = ends[0] - timedelta(days=6)
    counts = counts if counts is not None else day_counts(service_ids=service_ids, first=first, last=today)
    if targets is None:
        targets = dict(Service.objects.filter(id__in=service_ids).values_list("id", "target_score"))
    out: dict[str, list[ServiceScore]] = {}
    for sid in service_ids:
        per_day = counts.get(sid, {})
        series: list[ServiceScore] = []
        previous = None
        for end in ends:
            window = DayCounts()
            for offset in range(7):
                window.add(per_day.get(end - timedelta(days=offset), DayCounts()))
            estimate = score_from_counts(
                positive=window.positive, negative=window.negative, neutral=window.neutral
            )
            if previous is not None:
                start = local_day_start(end - timedelta(days=6))
                series.append(
                    ServiceScore(
                        service_id=sid,
                        start=start,
                        end=local_day_start(end + timedelta(days=1)),
                        estimate=estimate,
                        trend=score_trend(estimate, previous),
                        target=targets.get(sid),
                    )
                )
            previous = estimate
        out[sid] = series
    return out


def cached_themes(*, service_id: str, now: datetime) -> list[Any]:
    """This week's complaint themes (experience app), kept ten minutes: they move slowly, and finding them
    reads every complaint of the week. The key holds the live counts' generation, which a relabel moves on
    (`live_counts_forget`), as does an erasure (`receivers.on_author_erasing`): a post corrected to spam, to
    not a complaint or to another service, or erased with its author, leaves its themes and their example
    posts at once, not up to ten minutes later."""
    generation = cache.get(LIVE_GENERATION_KEY, 0)
    key = f"dashboard:themes:{generation}:{service_id}:{int(now.timestamp()) // THEMES_CACHE_SECONDS}"
    themes = cache.get(key)
    if themes is None:
        themes = list(top_themes(service_id=service_id, since=now - timedelta(days=7), until=now))
        cache.set(key, themes, THEMES_CACHE_SECONDS)
    return themes


def _weeks_label(name: str, weeks: list[ServiceScore]) -> str:
    shown = ", ".join("too few posts" if w.value is None else str(round(w.value)) for w in weeks)
    return f"{name}: experience score over the last {len(weeks)} weeks: {shown or 'no scores yet'}"


def board_rows(*, now: datetime | None = None) -> list[BoardRow]:
    """Every service with its state, score and trend, complaints against baseline, open incidents."""
    now = now or timezone.now()
    services = list(Service.objects.all())
    ids = [s.id for s in services]
    today = timezone.localdate(now)
    per_day = day_counts(service_ids=ids, first=today - timedelta(days=7 * (TREND_WEEKS + 1)), last=today)
    detectors = detectors_for(service_ids=ids)
    volumes = complaints_against_baseline(
        service_ids=ids, days=SPARK_DAYS, now=now, counts=per_day, detectors=detectors
    )
    scores = weekly_scores(service_ids=ids, weeks=TREND_WEEKS, now=now, counts=per_day)
    incidents = open_incidents_by_service(service_ids=ids)
    learning = learning_until(services=services, now=now, detectors=detectors)
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
            learning_until=learning.get(service.id),
        )
        row.state = board_state(row.open_incidents, now=now, learning_until=row.learning_until)
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
    learning_until: datetime | None = None
    # The explorer's filters for the posts behind "Last 7 days" (the same local days, complaints, no spam),
    # so the count links to exactly the posts it counts.
    complaints_query: str = ""
    # The alert rules that alert on this service (naming it, or naming no service), each with `named`, how
    # many services it names.
    alert_rules: list[AlertRule] = field(default_factory=list)
    # False while fewer than two weeks have a score: `score_svg` is then a sentence, without the chart's key.
    score_chart_drawn: bool = False

    @property
    def state_label(self) -> str:
        return _state_label(self.state, self.learning_until)

    @property
    def state_help(self) -> str:
        return LEARNING_HELP if self.state == BoardState.LEARNING else ""


def _score_chart_pending(scored_weeks: int) -> str:
    """What the service page says where the score chart goes, before two weeks have a score."""
    needs = f"a week's score needs at least {MIN_POSTS} posts"
    if scored_weeks == 0:
        return f"Too few posts for a score yet: {needs}."
    return f"One week with a score so far: the chart over time starts when a second week has one ({needs})."


def service_overview(*, service: Service, now: datetime | None = None) -> ServiceOverview:
    """The service page: score over time with band and target, complaints against baseline, themes, posts."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    per_day = day_counts(
        service_ids=[service.id], first=today - timedelta(days=7 * (SERVICE_WEEKS + 1)), last=today
    )
    weeks = weekly_scores(
        service_ids=[service.id],
        weeks=SERVICE_WEEKS,
        now=now,
        counts=per_day,
        targets={service.id: service.target_score},  # the service is at hand: one query fewer
    )[service.id]
    detectors = detectors_for(service_ids=[service.id])
    counts, baseline = complaints_against_baseline(
        service_ids=[service.id], days=SERVICE_DAYS, now=now, counts=per_day, detectors=detectors
    )[service.id]
    incidents = open_incidents_by_service(service_ids=[service.id]).get(service.id, [])
    target = service.target_score
    # The chart starts at the first week with a score: the weeks before (before the service had posts, or
    # servicepulse was listening) are not drawn as an empty axis beside a new service's one point.
    points = [charts.ScorePoint(start=w.start, value=w.value, low=w.low, high=w.high) for w in weeks]
    points = points[next((i for i, p in enumerate(points) if p.value is not None), len(points)) :]
    scored_weeks = sum(p.value is not None for p in points)
    latest = weeks[-1] if weeks else None
    score_label = f"Experience score of {service.name}, week by week, over {len(points)} weeks"
    if latest is not None and latest.value is not None:
        score_label += f"; latest {round(latest.value)}"
    if target is not None:
        score_label += f"; target {target}"
    days = _day_starts(now, SERVICE_DAYS)
    learning = learning_until(services=[service], now=now, detectors=detectors).get(service.id)
    return ServiceOverview(
        service=service,
        state=board_state(incidents, now=now, learning_until=learning),
        learning_until=learning,
        score=latest,
        open_incidents=incidents,
        score_svg=charts.fitted(
            lambda w: charts.score_chart(points, target=target, label=score_label, width=w)
        )
        if scored_weeks >= 2
        else SafeString(f'<p class="muted">{_score_chart_pending(scored_weeks)}</p>'),
        score_chart_drawn=scored_weeks >= 2,
        volume_svg=charts.fitted(
            lambda w: charts.volume_chart(
                [d.strftime("%d %b") for d in days],
                counts,
                baseline,
                label=(
                    f"Complaints about {service.name} per day over {SERVICE_DAYS} days against the typical "
                    f"volume; last 7 days {sum(counts[-7:])}, typical {round(sum(baseline[-7:]))}"
                ),
                width=w,
            )
        ),
        themes=cached_themes(service_id=service.id, now=now),
        # Spam about the service is left out, as the counts and the score leave it out.
        recent=list(mentions_for_service(service_id=service.id).filter(analysis__spam=False)[:RECENT_POSTS]),
        complaints_week=sum(counts[-7:]),
        baseline_week=sum(baseline[-7:]),
        complaints_query=urlencode(
            {
                "service": service.id,
                "complaint": "yes",
                "spam": "no",
                "since": days[-7].date().isoformat(),
                "until": days[-1].date().isoformat(),
            }
        ),
        # How many services each rule names (0: every service) instead of the services themselves: one query.
        alert_rules=list(
            alert_rule_list(service_id=service.id).prefetch_related(None).annotate(named=Count("services"))
        ),
    )


def incident_queryset(*, state: str = "", service_id: str = "") -> QuerySet[Incident]:
    """Incidents newest first, filtered by state ("open" or a state) and service."""
    return incident_list(state=state, service_id=service_id)


INCIDENT_EXPORT_COLUMNS = [
    "id",
    "service",
    "title",
    "kind",
    "state",
    "start",
    "confirmed",
    "end",
    "planned_end",
    "minutes",
    "people_affected",
    "page",
]


def _local_iso(moment: datetime | None) -> str:
    return timezone.localtime(moment).isoformat() if moment is not None else ""


def incident_export_rows(*, state: str = "", service_id: str = "") -> Iterator[list[str]]:
    """The incidents the Incidents page lists for these filters, newest first, one CSV row each, the header
    first: its state in the page's words, times in the organisation's zone, how long it ran in minutes (empty
    while open and for maintenance called off before it started) and its page's address."""
    yield INCIDENT_EXPORT_COLUMNS
    for incident in incident_queryset(state=state, service_id=service_id).iterator(chunk_size=500):
        end = incident.resolved_at
        ran = end is not None and not incident.cancelled_before_start
        minutes = str(round((end - incident.started_at).total_seconds() / 60)) if ran and end else ""
        yield [
            str(incident.pk),
            spreadsheet_cell(incident.service.name),
            spreadsheet_cell(incident.title),
            str(incident.get_kind_display()),
            incident.shown_state,
            _local_iso(incident.started_at),
            _local_iso(incident.confirmed_at),
            _local_iso(end),
            _local_iso(incident.planned_end),
            minutes,
            str(incident.affected_authors),
            f"{settings.BASE_URL}{reverse('dashboard:incident', args=[incident.pk])}",
        ]


def maintenance_overlaps(*, window: Incident) -> list[Incident]:
    """The service's other planned maintenance windows, not yet ended, whose time overlaps `window`'s,
    earliest first. Overlaps are allowed (the status page allows them too), but while two are open a
    complaint attaches only to the one that started later, so the page that planned one says so."""
    if window.kind != IncidentKind.MAINTENANCE or window.planned_end is None:
        return []
    return list(
        Incident.objects.filter(
            kind=IncidentKind.MAINTENANCE,
            service_id=window.service_id,
            state__in=OPEN_STATES,
            started_at__lt=window.planned_end,
            planned_end__gt=window.started_at,
        )
        .exclude(pk=window.pk)
        .select_related("service")
        .order_by("started_at", "id")
    )


def incident_page(*, pk: int) -> IncidentDetail | None:
    """Everything the incident page shows (timeline, explanation, posts, authors, alerts), or None."""
    return incident_detail(incident_id=pk)


@dataclass(frozen=True)
class GrowthChart:
    """The incident page's growth chart, or the sentence standing in for it (`drawn` False: no key either)."""

    svg: SafeString
    drawn: bool = False
    bucket: str = ""  # the width of a bar in words, for the key: "15 minutes", "2 hours"
    zone: str = ""  # the time zone the axis is written in: "GMT"


def _span_words(span: timedelta) -> str:
    minutes = int(span.total_seconds()) // 60
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return "day" if days == 1 else f"{days} days"
    if minutes % 60 == 0:
        return "hour" if minutes == 60 else f"{minutes // 60} hours"
    return f"{minutes} minutes"


def incident_growth_chart(*, detail: IncidentDetail) -> GrowthChart | None:
    """How the incident grew, drawn (`charts.growth_chart`) from `detail.growth`, times in the organisation's
    zone; with fewer than two complaints a sentence instead of a chart. None where there is nothing to draw
    (planned maintenance)."""
    growth = detail.growth
    if growth is None:
        return None
    if growth.complaints < 2:
        words = "No complaints are attached to this incident yet."
        if growth.complaints == 1:
            at = next(b.start for b in growth.bars if b.complaints)
            words = (
                f"One complaint is attached so far, posted between {local_time_text(at)} and "
                f"{local_time_text(at + growth.size)}: the chart of how it grew starts at two."
            )
        return GrowthChart(svg=SafeString(f'<p class="muted">{words}</p>'))
    local = [timezone.localtime(b.start) for b in growth.bars]
    first = growth.bars[0].start
    # Times along the axis start at the first bar on a round hour (or day, for bars of a day or more).
    on_the_hour = [t.minute == 0 and (growth.size < timedelta(days=1) or t.hour == 0) for t in local]
    bucket = _span_words(growth.size)
    # Labels every so many bars that they fall on round times: 21:00, 22:00, not 21:00, 21:45.
    round_spans = [timedelta(minutes=m) for m in (15, 30, 60, 120, 180, 360, 720)]
    round_spans += [timedelta(days=d) for d in (1, 2, 7, 14, 28)]
    steps = [s // growth.size for s in round_spans if s >= growth.size and s % growth.size == timedelta(0)]
    peak = growth.peak
    assert peak is not None  # two complaints or more
    markers = [
        charts.ChartMarker(position=(m.at - first) / growth.size, text=m.label) for m in growth.markers
    ]
    label = (
        f"How “{detail.incident}” grew, per {bucket} from {local_time_text(first)} to "
        f"{local_time_text(growth.end)}: {growth.complaints} complaints attached, most in the {bucket} from "
        f"{local_time_text(peak.start)} ({peak.complaints}); {growth.people} people affected in all"
    )
    if growth.markers:
        label += ". State changes: " + "; ".join(f"{m.label} {local_time_text(m.at)}" for m in growth.markers)
    return GrowthChart(
        svg=charts.fitted(
            lambda w: charts.growth_chart(
                [t.strftime("%H:%M") for t in local],
                [t.strftime("%d %b") for t in local],
                [b.complaints for b in growth.bars],
                [b.people for b in growth.bars],
                markers=markers,
                first_label=next((i for i, round_ in enumerate(on_the_hour) if round_), 0),
                label_steps=steps or [1],
                label=label + ".",
                width=w,
                height=210 if w == charts.WIDE else 240,  # the wide one fills a whole page's width
            )
        ),
        drawn=True,
        bucket=bucket,
        zone=timezone.localtime(growth.end).tzname() or "",
    )


def alert_rule_rows(*, service_id: str = "") -> QuerySet[AlertRule]:
    """The alert rules (with `service_id`, those that alert on that service), each with its latest delivery
    (`latest_deliveries`, a list of at most one): the page says whether a rule's last alert went out, is
    retrying or failed, so a broken target is seen without opening every incident."""
    latest = AlertDelivery.objects.select_related("incident").order_by("-created_at", "-id")[:1]
    return alert_rule_list(service_id=service_id).prefetch_related(
        Prefetch("deliveries", queryset=latest, to_attr="latest_deliveries")
    )


# Apostrophes a phone or a word processor may type for the straight one ("Mae\u2019r" for "Mae'r").
_APOSTROPHES = "'\u2019\u2018\u02bc"


@lru_cache(maxsize=1)
def _letter_variants() -> dict[str, str]:
    """Each ASCII letter with its accented forms in both cases, those of Western and Central European languages
    (Latin-1 and Latin Extended-A) and Welsh's ẁ ẃ ẅ ỳ: "w" -> "WwŴŵẀẁẂẃẄẅ", so a search for "ffon" finds "ffôn"
    and "Ŵyl" finds "ŵyl". (Not every accented letter: each one widens the pattern PostgreSQL's trigram index
    has to expand.)"""
    variants: dict[str, set[str]] = {}
    for code in [*range(0xC0, 0x180), *range(0x1E80, 0x1E86), 0x1EF2, 0x1EF3]:
        letter = chr(code)
        base = unicodedata.normalize("NFD", letter)[0]
        if base != letter and base.isascii() and base.isalpha():
            forms = {letter, letter.lower(), letter.upper()}
            variants.setdefault(base.lower(), set()).update(f for f in forms if len(f) == 1)
    return {
        base: "".join(sorted({base, base.upper(), *variants.get(base, ())}))
        for base in "abcdefghijklmnopqrstuvwxyz"
    }


def _search_pattern(word: str) -> str:
    """A regular expression (the same syntax for SQLite's Python `re` and PostgreSQL's) that finds `word` in
    any case and with or without accents. `icontains` was case-insensitive for ASCII letters only on SQLite
    ("FFÔN" missed "ffôn") and accent-sensitive everywhere ("ffon", "sian" missed "ffôn", "Siân"): Welsh is
    often typed without its circumflexes, or with them on one keyboard and not on another."""
    variants = _letter_variants()
    parts = []
    for char in unicodedata.normalize("NFC", word):
        base = unicodedata.normalize("NFD", char)[0].lower()
        if base in variants:
            parts.append(f"[{variants[base]}]")
        elif char in _APOSTROPHES:
            parts.append(f"[{_APOSTROPHES}]")
        elif char.isalnum():
            forms = "".join(sorted({char, *(f for f in (char.lower(), char.upper()) if len(f) == 1)}))
            parts.append(f"[{forms}]" if len(forms) > 1 else char)
        elif char.isascii():
            parts.append(f"\\{char}")
        else:
            parts.append(f"[{char}]")
    return "".join(parts)


def mention_search_q(query: str) -> Q:
    """Search over text and author: every word must appear, in any case. A word typed with an accent or an
    apostrophe ("ffôn", "Ŵyl", "Mae\u2019r") finds the word with or without its accents and with either apostrophe
    ("ffon", "ŵyl", "Mae'r"), in any case on both databases; a plain ASCII word is matched as typed, in any
    case, through PostgreSQL's trigram index on UPPER(column) (dashboard migration 0003), so "ffon" does not
    find "ffôn". Accent-folding every word was measured first: on 300,000 posts the explorer's search went
    from 43 ms to 229 ms (`bench/bench_dashboard.py --mentions 300000`), past the 200 ms target, as the
    letters' accented variants leave the index little to select on."""
    q = Q()
    for word in query.split()[:8]:
        if word.isascii() and not any(char in _APOSTROPHES for char in word):
            q &= Q(text__icontains=word) | Q(author__icontains=word)
            continue
        pattern = _search_pattern(word)
        # On UPPER(column), as the trigram indexes are; the pattern has both cases, as SQLite's UPPER leaves
        # letters outside ASCII as they are.
        q &= Q(Regex(Upper("text"), pattern)) | Q(Regex(Upper("author"), pattern))
    return q
