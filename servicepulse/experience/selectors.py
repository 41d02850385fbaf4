"""Reads for experience: score series for charts, complaint themes, SLA figures, and the weekly report."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString

from servicepulse.catalog.models import Service
from servicepulse.core.words import words
from servicepulse.experience import charts, readers
from servicepulse.experience.models import Priority, Ticket
from servicepulse.experience.periods import FIRST_YEAR, IsoWeek
from servicepulse.experience.score import (
    ScoreEstimate,
    ServiceScore,
    score_from_counts,
    score_trend,
)
from servicepulse.experience.themes import Theme, themes_for

# Resolution targets per priority, in elapsed hours (not business hours). Override with the setting
# SERVICEPULSE_SLA_TARGET_HOURS = {"P1": 4, ...}.
DEFAULT_SLA_TARGET_HOURS: dict[str, float] = {"P1": 4, "P2": 8, "P3": 72, "P4": 120}
REPORT_TREND_WEEKS = 8

# "Ahead of the desk" counts a ticket as the desk hearing of an incident only when it was opened from
# DESK_TICKET_LEAD_IN before the chatter began until a grace in desk hours after the incident was resolved (any
# time while it is open). Desk hours are weekdays DESK_OPENS to DESK_CLOSES in the organisation's time zone, so
# the calls about a Sunday-night outage on Monday morning count (the demo's Moodle tickets come about five and
# a half hours after it ended) while a ticket about the service a day and a half later does not. The grace is
# DEFAULT_DESK_TICKET_GRACE_HOURS unless the setting SERVICEPULSE_DESK_TICKET_GRACE_HOURS says otherwise.
DEFAULT_DESK_TICKET_GRACE_HOURS = 4.0
DESK_TICKET_LEAD_IN = timedelta(hours=1)
DESK_OPENS, DESK_CLOSES = time(8, 0), time(18, 0)


def sla_target_hours() -> dict[str, float]:
    return {**DEFAULT_SLA_TARGET_HOURS, **getattr(settings, "SERVICEPULSE_SLA_TARGET_HOURS", {})}


def desk_ticket_grace_hours() -> float:
    return float(getattr(settings, "SERVICEPULSE_DESK_TICKET_GRACE_HOURS", DEFAULT_DESK_TICKET_GRACE_HOURS))


# --- scores ------------------------------------------------------------------------------------------------


def _estimate(counts: readers.Counts | None) -> ScoreEstimate:
    c = counts or readers.Counts()
    return score_from_counts(positive=c.positive, negative=c.negative, neutral=c.neutral)


def _targets(service_ids: list[str]) -> dict[str, int | None]:
    return dict(Service.objects.filter(id__in=service_ids).values_list("id", "target_score"))


def score_windows(*, service_ids: list[str], bounds: list[datetime]) -> dict[str, list[ServiceScore]]:
    """Scores per service for the windows bounds[i] <= t < bounds[i+1], each with its trend against the
    window before it (the first window is compared with the one of the same length just before)."""
    if len(bounds) < 2:
        return {sid: [] for sid in service_ids}
    targets = _targets(service_ids)
    # Aware datetimes in one zone subtract and add in wall-clock time, so for calendar bounds (IsoWeek.start,
    # local midnights) this is the whole calendar week or day before, even when a clock change makes it 167
    # or 169 hours (tests/experience/test_clock_changes.py); rolling bounds in UTC get the same 168 hours.
    first_len = bounds[1] - bounds[0]
    edges = [bounds[0] - first_len, *bounds]
    counts = [
        readers.score_counts(start=a, end=b, service_ids=service_ids) for a, b in itertools.pairwise(edges)
    ]
    out: dict[str, list[ServiceScore]] = {}
    for sid in service_ids:
        series: list[ServiceScore] = []
        previous = _estimate(counts[0].get(sid))
        for i in range(1, len(edges) - 1):
            estimate = _estimate(counts[i].get(sid))
            series.append(
                ServiceScore(
                    service_id=sid,
                    start=edges[i],
                    end=edges[i + 1],
                    estimate=estimate,
                    trend=score_trend(estimate, previous),
                    target=targets.get(sid),
                )
            )
            previous = estimate
        out[sid] = series
    return out


def weekly_scores(
    *, service_ids: list[str], weeks: int, now: datetime | None = None
) -> dict[str, list[ServiceScore]]:
    """The last `weeks` rolling seven-day windows ending at `now`, oldest first (the board and service page:
    the latest point is always a full week, so the board looks live on a Monday morning too)."""
    now = now or timezone.now()
    bounds = [now - timedelta(days=7 * (weeks - i)) for i in range(weeks + 1)]
    return score_windows(service_ids=service_ids, bounds=bounds)


def score_series(
    *, service_id: str, start: datetime, end: datetime, period: str = "week"
) -> list[ServiceScore]:
    """A service's scores over [start, end) by ISO week ("week") or by day ("day"), for charts."""
    if period == "week":
        week, bounds = IsoWeek.containing(start), []
        while week.start < end:
            bounds.append(week.start)
            week = week.next()
        bounds.append(week.start)
    elif period == "day":
        first = timezone.localtime(start).replace(hour=0, minute=0, second=0, microsecond=0)
        bounds = []
        day = first
        while day < end:
            bounds.append(day)
            day = timezone.make_aware(
                (timezone.make_naive(day) + timedelta(days=1)), timezone.get_default_timezone()
            )
        bounds.append(day)
    else:
        raise ValueError(f"period must be 'week' or 'day', not {period!r}")
    return score_windows(service_ids=[service_id], bounds=bounds)[service_id]


# --- themes ------------------------------------------------------------------------------------------------


def _alias_words(service: Service) -> frozenset[str]:
    found: set[str] = set()
    for name in [service.id, service.name, *service.aliases]:
        found.update(words(name))  # "sign-on" as people write it; "教务系统" as its character pairs
        found.update(words(name.replace("-", " ")))
    return frozenset(found)


def top_themes(
    *, service_id: str, since: datetime, until: datetime | None = None, limit: int = 3
) -> list[Theme]:
    """What a service's complaints in [since, until) are about, most telling first, with example posts."""
    until = until or timezone.now()
    service = Service.objects.filter(id=service_id).first()
    if service is None:
        return []
    posts = readers.complaint_posts(start=since, end=until, service_ids=[service_id]).get(service_id, [])
    # Against what people usually say about this service (so a deadline-night outage stands out from the
    # VLE's everyday complaints), topped up with everyone's complaints while the service has little history.
    earlier = since - timedelta(days=28)
    own = readers.complaint_posts(start=earlier, end=since, service_ids=[service_id]).get(service_id, [])
    background = [p.text for p in own]
    if len(background) < 40:
        background += readers.complaint_texts(start=earlier, end=since, limit=1000)
    themes = themes_for(posts, background=background, ignore=_alias_words(service), limit=limit)
    for theme in themes:
        theme.service_id, theme.service_name = service.id, service.name
    return themes


# --- tickets and SLA ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaRow:
    priority: str
    label: str
    target_hours: float
    opened: int
    resolved: int
    within_target: int  # resolved within the target, of the tickets opened in the period
    median_resolution: timedelta | None
    pending: int = 0  # still open and not yet past the target: neither met nor missed

    @property
    def decided(self) -> int:
        """Tickets already met or missed: resolved ones, and open ones past their target."""
        return self.opened - self.pending

    @property
    def within_pct(self) -> float | None:
        return None if not self.decided else 100.0 * self.within_target / self.decided


class SlaCount(NamedTuple):
    opened: int
    within_target: int
    pending: int = 0


@dataclass(frozen=True)
class SlaServiceRow:
    service: Service
    opened: int
    within_target: int
    score: ServiceScore | None
    complaints: int
    pending: int = 0

    @property
    def within_pct(self) -> float | None:
        decided = self.opened - self.pending
        return None if not decided else 100.0 * self.within_target / decided


def _sla_outcome(ticket: Ticket, *, limit: timedelta, now: datetime) -> str:
    """How a ticket stands against its target at `now`: "met", "missed", or "pending" (still open, and
    its target not passed yet)."""
    if ticket.resolved_at is None:
        return "missed" if now - ticket.opened_at > limit else "pending"
    return "met" if ticket.resolved_at - ticket.opened_at <= limit else "missed"


def ticket_sla(
    *, start: datetime, end: datetime, now: datetime | None = None
) -> tuple[list[SlaRow], dict[str, SlaCount]]:
    """SLA figures for tickets opened in [start, end): per priority, and per service (opened, within target,
    pending). A ticket is within target when it was resolved no later than its priority's target; one still
    open at `now` (default: now) is a miss once past its target, and until then pending: neither met nor
    missed, so the percentages leave it out."""
    now = now or timezone.now()
    targets = sla_target_hours()
    tickets = list(Ticket.objects.filter(opened_at__gte=start, opened_at__lt=end).order_by())
    outcome = {t.pk: _sla_outcome(t, limit=timedelta(hours=targets[t.priority]), now=now) for t in tickets}
    rows = []
    for priority in Priority:
        group = [t for t in tickets if t.priority == priority.value]
        times = [t.resolution_time for t in group if t.resolution_time is not None]
        rows.append(
            SlaRow(
                priority=priority.value,
                label=priority.label,
                target_hours=targets[priority.value],
                opened=len(group),
                resolved=len(times),
                within_target=sum(1 for t in group if outcome[t.pk] == "met"),
                pending=sum(1 for t in group if outcome[t.pk] == "pending"),
                median_resolution=timedelta(seconds=statistics.median(t.total_seconds() for t in times))
                if times
                else None,
            )
        )
    per_service: dict[str, SlaCount] = {}
    for t in tickets:
        count = per_service.get(t.service_id, SlaCount(0, 0, 0))
        per_service[t.service_id] = SlaCount(
            count.opened + 1,
            count.within_target + int(outcome[t.pk] == "met"),
            count.pending + int(outcome[t.pk] == "pending"),
        )
    return rows, per_service


def after_desk_hours(moment: datetime, hours: float) -> datetime:
    """The moment `hours` of desk time (weekdays, DESK_OPENS to DESK_CLOSES, local time) after `moment`."""
    if hours <= 0:
        return moment
    tz = timezone.get_default_timezone()
    local = moment.astimezone(tz)
    remaining, day = timedelta(hours=hours), local.date()
    while True:
        if day.weekday() < 5:
            begin = max(datetime.combine(day, DESK_OPENS, tzinfo=tz), local)
            closes = datetime.combine(day, DESK_CLOSES, tzinfo=tz)
            if begin < closes:
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
        day += timedelta(days=1)


def desk_ticket_window(*, began: datetime, resolved_at: datetime | None) -> tuple[datetime, datetime | None]:
    """When a ticket about the service counts as the desk hearing of an incident that began (its chatter) at
    `began`: from DESK_TICKET_LEAD_IN before (a desk may log a call just before the chatter starts) to the grace
    in desk hours after it was resolved; no end while it is open."""
    until = None if resolved_at is None else after_desk_hours(resolved_at, desk_ticket_grace_hours())
    return began - DESK_TICKET_LEAD_IN, until


def first_ticket_for_incident(
    *, service_id: str, began: datetime, resolved_at: datetime | None
) -> datetime | None:
    """When the service desk first heard of an incident: its first ticket for the service in
    `desk_ticket_window`, or None when no ticket was opened then (a later one is another matter)."""
    since, until = desk_ticket_window(began=began, resolved_at=resolved_at)
    tickets = Ticket.objects.filter(service_id=service_id, opened_at__gte=since)
    if until is not None:
        tickets = tickets.filter(opened_at__lte=until)
    return tickets.order_by("opened_at").values_list("opened_at", flat=True).first()


# --- the weekly report -------------------------------------------------------------------------------------


@dataclass
class ServiceRow:
    service: Service
    score: ServiceScore
    series: list[ServiceScore]
    spark: SafeString
    complaints: int
    spam: int

    @property
    def trend_known(self) -> bool:
        """Both this week and the week before have enough posts to compare: only then is no arrow "steady"."""
        return not self.score.too_few and len(self.series) >= 2 and not self.series[-2].too_few


@dataclass
class IncidentRow:
    facts: readers.IncidentFacts
    service_name: str
    first_ticket_at: datetime | None

    @property
    def display_title(self) -> str:
        """The title, led by the service's name unless it already is."""
        title = self.facts.title
        return (
            title if title.lower().startswith(self.service_name.lower()) else f"{self.service_name}: {title}"
        )

    @property
    def lead_over_desk(self) -> timedelta | None:
        """How long before the service desk's first ticket (in `desk_ticket_window`) servicepulse raised the
        incident; None without such a ticket."""
        if self.first_ticket_at is None or self.facts.detected_at is None:
            return None
        return self.first_ticket_at - self.facts.detected_at


@dataclass
class WeeklyReport:
    week: IsoWeek
    organisation: str
    generated_at: datetime
    analysis_ready: bool
    services: list[ServiceRow]
    chart_scores: SafeString
    chart_daily: SafeString
    totals: dict[str, int]
    themes: list[Theme]
    incidents: list[IncidentRow] | None  # confirmed (or opened by hand); None: no incidents app
    possible_problems: int  # possible problems raised that never confirmed
    response_times: list[Any] | None  # None: no inbox
    sla: list[SlaRow] | None  # None: no tickets imported for the week
    sla_services: list[SlaServiceRow] = field(default_factory=list)
    base_url: str = ""
    tickets_imported: bool = False  # any ticket at all: else "no matching ticket" would mislead
    inbox_untouched: int = 0  # posts of the week nobody acted on: not in response_times, said beside them
    desk_grace_hours: float = DEFAULT_DESK_TICKET_GRACE_HOURS
    # (language, posts) of the headline's posts read in a language other than English, most first.
    other_languages: list[tuple[str, int]] = field(default_factory=list)

    @property
    def other_language_posts(self) -> int:
        return sum(n for _, n in self.other_languages)

    @property
    def sla_pending(self) -> int:
        return sum(row.pending for row in self.sla or [])

    @property
    def desk_opens(self) -> time:
        return DESK_OPENS

    @property
    def desk_closes(self) -> time:
        return DESK_CLOSES

    @property
    def previous_label(self) -> str | None:
        previous = self.week.previous()
        return previous.label if previous.year >= FIRST_YEAR else None

    @property
    def next_label(self) -> str | None:
        following = self.week.next()
        return following.label if following.start <= timezone.now() else None

    @property
    def in_progress(self) -> bool:
        """The week is not over: its figures cover it up to `generated_at`."""
        return self.week.end > self.generated_at

    @property
    def scored(self) -> list[ServiceRow]:
        return [row for row in self.services if not row.score.too_few]

    @property
    def below_target(self) -> list[ServiceRow]:
        return [row for row in self.services if row.score.target_status == "below"]


def report_build(*, week: IsoWeek | str) -> WeeklyReport:
    """Everything the weekly report shows for ISO week `week` (a `IsoWeek` or "2026-W47")."""
    if isinstance(week, str):
        week = IsoWeek.parse(week)
    start, end = week.start, week.end
    services = list(Service.objects.order_by("order", "name"))
    ids = [s.id for s in services]
    first = week.previous(REPORT_TREND_WEEKS - 1)
    bounds = [first.previous(-i).start for i in range(REPORT_TREND_WEEKS)] + [end]
    series = score_windows(service_ids=ids, bounds=bounds)
    counts = readers.score_counts(start=start, end=end, service_ids=ids)

    rows: list[ServiceRow] = []
    for service in services:
        points = series[service.id]
        rows.append(
            ServiceRow(
                service=service,
                score=points[-1],
                series=points,
                # No week with enough posts: words, not a bare zero line that reads as a steady score of 0.
                spark=charts.sparkline(
                    [p.value for p in points],
                    label=f"{service.name}: weekly experience score over {len(points)} weeks",
                )
                if any(p.value is not None for p in points)
                else SafeString('<span class="muted">no scores yet</span>'),
                complaints=counts.get(service.id, readers.Counts()).complaints,
                spam=counts.get(service.id, readers.Counts()).spam,
            )
        )
    chart_scores = charts.score_bars(
        [
            charts.ScoreBar(
                label=row.service.name,
                value=row.score.value,
                low=row.score.low,
                high=row.score.high,
                target=row.score.target,
                n=row.score.n,
            )
            for row in rows
        ],
        title=f"Experience score by service, week {week.label} (95% interval, target mark)",
    )
    days = week.days()
    complaints_per_day, others_per_day = readers.daily_counts(days=days)
    # A week without a post has no chart: seven empty bars say nothing the headline's "0 posts" does not.
    chart_daily = (
        charts.daily_bars(
            [f"{timezone.localtime(d):%a %-d}" for d in days[:-1]],
            complaints_per_day,
            others_per_day,
            title="Posts per day about IT services",
        )
        if sum(complaints_per_day) + sum(others_per_day)
        else SafeString("")
    )

    # Themes: the services with the most complaints this week, their most telling terms.
    themes: list[Theme] = []
    busiest = sorted(rows, key=lambda r: (-r.complaints, r.service.order))[:4]
    for row in busiest:
        if row.complaints < 3:
            continue
        found = top_themes(service_id=row.service.id, since=start, until=end, limit=2)
        themes.extend(found)

    incident_facts = readers.incidents_between(start=start, end=end)
    names = {s.id: s.name for s in services}
    incidents: list[IncidentRow] | None = None
    possible = 0
    if incident_facts is not None:
        incidents = []
        possible = sum(1 for f in incident_facts if not f.confirmed)
        for f in incident_facts:
            if not f.confirmed:
                continue
            began = f.started_at or f.detected_at
            ticket_at = (
                first_ticket_for_incident(service_id=f.service_id, began=began, resolved_at=f.resolved_at)
                if began
                else None
            )
            incidents.append(
                IncidentRow(
                    facts=f, service_name=names.get(f.service_id, f.service_id), first_ticket_at=ticket_at
                )
            )

    generated_at = timezone.now()
    sla_rows, per_service = ticket_sla(start=start, end=end, now=generated_at)
    has_tickets = any(r.opened for r in sla_rows)
    sla_services = []
    for row in rows:
        if row.service.id not in per_service and not row.complaints:
            continue
        count = per_service.get(row.service.id, SlaCount(0, 0, 0))
        sla_services.append(
            SlaServiceRow(
                service=row.service,
                opened=count.opened,
                within_target=count.within_target,
                pending=count.pending,
                score=row.score,
                complaints=row.complaints,
            )
        )
    total = sum((c.positive + c.negative + c.neutral) for c in counts.values())
    response_times = readers.response_times(start=start, end=end)
    if response_times is not None:  # in catalogue order, as every other table of the report (cases with no
        # service last), not by service id
        place = {s.id: i for i, s in enumerate(services)}
        response_times.sort(key=lambda rt: place.get(rt.service_id, len(place)))
    return WeeklyReport(
        week=week,
        organisation=settings.SERVICEPULSE_ORGANISATION,
        generated_at=generated_at,
        analysis_ready=readers.analysis_ready(),
        services=rows,
        chart_scores=chart_scores,
        chart_daily=chart_daily,
        totals={
            "mentions": total,
            # Posts, not (post, service) pairs: a complaint naming two services is one complaint here, as
            # in the daily chart below it (the per-service rows count it for each service it names).
            "complaints": sum(complaints_per_day),
            "spam": readers.spam_count(start=start, end=end),
            "tickets": sum(r.opened for r in sla_rows),
        },
        themes=themes,
        incidents=incidents,
        possible_problems=possible,
        response_times=response_times,
        inbox_untouched=readers.inbox_untouched(start=start, end=end) if response_times is not None else 0,
        sla=sla_rows if has_tickets else None,
        sla_services=sla_services if has_tickets else [],
        base_url=getattr(settings, "BASE_URL", ""),
        tickets_imported=Ticket.objects.exists(),
        desk_grace_hours=desk_ticket_grace_hours(),
        other_languages=readers.other_languages(start=start, end=end),
    )
