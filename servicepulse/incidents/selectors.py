"""Reads of the incidents app (the dashboard, status and engage apps call these)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from servicepulse.analysis.models import MentionAnalysis, ServiceTag
from servicepulse.core.times import local_time_text
from servicepulse.incidents import explain as explaining
from servicepulse.incidents.buckets import bucket_floor, bucket_size
from servicepulse.incidents.calendar import calendar_runs_out, term_calendar
from servicepulse.incidents.models import (
    OPEN_STATES,
    ActivityType,
    AlertDelivery,
    AlertRule,
    Incident,
    IncidentActivity,
    IncidentKind,
    IncidentMention,
    IncidentState,
    incident_state_label,
)
from servicepulse.mentions.models import Mention


def incident_list(*, state: str = "", service_id: str = "", kind: str = "") -> QuerySet[Incident]:
    """Incidents newest first; ``state`` may be a state, "open" (happening now: not maintenance that has
    not started yet), "scheduled" (maintenance that has not started yet), "manual" (opened by hand) or
    "maintenance" (planned maintenance), those two in any state. "confirmed" means a problem detection
    found and confirmed ("Problem detected"): one opened by hand or a maintenance window is confirmed only in
    the state machine's sense, so they are left out."""
    qs = Incident.objects.select_related("service")
    upcoming = Q(kind=IncidentKind.MAINTENANCE, started_at__gt=timezone.now())
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES).exclude(upcoming)
    elif state == "scheduled":
        qs = qs.filter(upcoming, state__in=OPEN_STATES)
    elif state in (IncidentKind.MAINTENANCE, IncidentKind.MANUAL):
        qs = qs.filter(kind=state)
    elif state == IncidentState.CONFIRMED:
        qs = qs.filter(state=state, kind=IncidentKind.DETECTED)
    elif state:
        qs = qs.filter(state=state)
    if service_id:
        qs = qs.filter(service_id=service_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def attached_relabelled_away(*, incident: Incident) -> QuerySet[MentionAnalysis, Any]:
    """Ids (as a subquery) of the posts attached to `incident` that an analyst has since relabelled so they no
    longer read as complaints about its service (spam, not a complaint, another service). The models' own
    reading is what attached them; only a person's correction takes them out of the count."""
    still_complaints = ServiceTag.objects.filter(
        service_id=incident.service_id, complaint=True, spam=False
    ).values("analysis_id")
    return (
        MentionAnalysis.objects.filter(mention__incident_attachments__incident=incident)
        .exclude(corrected=[])
        .exclude(pk__in=still_complaints)
        .values("pk")
    )


def incident_next_states(*, state: str, maintenance: bool = False) -> list[IncidentState]:
    """The states an incident in `state` may be moved to by hand, as `services.incident_update_status`
    allows them (its `STATE_TRANSITIONS`), in the order of `IncidentState`. A maintenance window can only be
    ended: it is never turned into (or reopened as) a detected problem."""
    from servicepulse.incidents.services import STATE_TRANSITIONS

    try:
        allowed = STATE_TRANSITIONS[IncidentState(state)]
    except ValueError:
        return []
    if maintenance:
        allowed = allowed & {IncidentState.RESOLVED}
    return [s for s in IncidentState if s in allowed]


def open_incidents_by_service(*, service_ids: list[str]) -> dict[str, list[Incident]]:
    """Each service's unresolved incidents, maintenance not yet started included (the board says so)."""
    out: dict[str, list[Incident]] = {sid: [] for sid in service_ids}
    for incident in incident_list().filter(state__in=OPEN_STATES, service_id__in=service_ids):
        out[incident.service_id].append(incident)
    return out


@dataclass
class TimelineItem:
    at: datetime
    state: str
    state_label: str
    note: str
    # A maintenance window's planned start and end, which the page words in local time instead of the note.
    window: tuple[datetime, datetime] | None = None
    by: str = ""  # who did it; empty for what servicepulse did itself (detection)


@dataclass
class IncidentDetail:
    incident: Incident
    posts: list[Mention]
    explanation: dict[str, Any]
    timeline: list[TimelineItem]
    authors: list[str]
    deliveries: list[AlertDelivery]
    # Attached posts an analyst has since relabelled (spam, not a complaint, another service): listed, not
    # counted among the people affected.
    not_counted: set[int] = field(default_factory=set)
    # What the explanation counted when it was written, when that is no longer the count (empty otherwise).
    explanation_note: str = ""
    # The people `authors` cannot name, by channel ("3 people on Report-a-problem widget"), and everyone counted.
    authors_unnamed: list[str] = field(default_factory=list)
    people: int = 0
    lasted: str = ""  # how long a resolved incident lasted ("1 h 47 min"); empty while open
    # Complaints and people bucket by bucket, with the state changes (`incident_growth`); None for maintenance.
    growth: IncidentGrowth | None = None


MAX_GROWTH_BARS = 96  # an incident open for days is drawn in wider buckets, never in thousands of bars
GROWTH_LEAD_BARS = 2  # buckets before the start, so the rise shows against what came before it


@dataclass(frozen=True)
class GrowthBar:
    start: datetime
    complaints: int  # attached complaints posted in [start, start + size)
    people: int  # distinct people who had complained by the end of the bucket


@dataclass(frozen=True)
class GrowthMarker:
    at: datetime
    state: str
    label: str  # short: "possible", "confirmed", "opened" (by hand), "reopened", "resolved"


@dataclass(frozen=True)
class IncidentGrowth:
    """How an incident grew: its attached complaints per bucket from a little before its start to its
    resolution (or now), the running count of people, and when its state changed."""

    size: timedelta
    bars: list[GrowthBar]
    markers: list[GrowthMarker]
    complaints: int
    people: int
    end: datetime  # resolution, or the moment it was read while open

    @property
    def peak(self) -> GrowthBar | None:
        """The first bucket with the most complaints (None without any)."""
        best = max(self.bars, key=lambda b: b.complaints, default=None)
        return best if best is not None and best.complaints else None


def _growth_bucket(span: timedelta) -> timedelta:
    """The detector's bucket, doubled (or more) until `span` and the lead fit in `MAX_GROWTH_BARS` bars."""
    base = bucket_size()
    for factor in (1, 2, 4, 8, 12, 24, 48, 96):
        size = base * factor
        if math.ceil(span / size) + GROWTH_LEAD_BARS + 1 <= MAX_GROWTH_BARS:
            return size
    size = base * 96
    while math.ceil(span / size) + GROWTH_LEAD_BARS + 1 > MAX_GROWTH_BARS:
        size *= 2
    return size


def _growth_marker(activity: IncidentActivity, *, kind: str) -> GrowthMarker | None:
    if activity.type not in (ActivityType.CREATED, ActivityType.STATE_CHANGED):
        return None
    if activity.state not in IncidentState.values:
        return None
    label = str(activity.state)
    if activity.state == IncidentState.CONFIRMED:
        if activity.previous_state == IncidentState.RESOLVED:
            label = "reopened"
        elif kind == IncidentKind.MANUAL and activity.type == ActivityType.CREATED:
            label = "opened"  # by a person: nothing was detected or confirmed
    return GrowthMarker(at=activity.at, state=activity.state, label=label)


def incident_growth(
    *,
    incident: Incident,
    complaints: Sequence[tuple[datetime, str]],
    activities: Sequence[IncidentActivity],
    now: datetime | None = None,
) -> IncidentGrowth:
    """How `incident` grew, from its `complaints` (attached posts that count, as (created at, author key)) and
    its `activities`: complaints per bucket (`SERVICEPULSE_BUCKET_MINUTES`, widened so an incident open for
    days has at most `MAX_GROWTH_BARS` bars) from `GROWTH_LEAD_BARS` buckets before its start (or its first
    complaint) to its resolution (or `now` while open), the people who had complained by the end of each
    bucket (each person once, as `affected_authors` counts them), and its state changes."""
    end = incident.resolved_at or now or timezone.now()
    ordered = sorted(complaints, key=lambda c: c[0])
    begin = min([incident.started_at, *(at for at, _ in ordered[:1])])
    end = max([end, *(at for at, _ in ordered[-1:])])
    size = _growth_bucket(end - begin)
    first = bucket_floor(begin, size) - size * GROWTH_LEAD_BARS
    count = int((end - first) // size) + 1
    per_bar = [0] * count
    newcomers = [0] * count
    seen: set[str] = set()
    for at, author_key in ordered:
        i = min(int((at - first) // size), count - 1)
        per_bar[i] += 1
        if author_key not in seen:
            seen.add(author_key)
            newcomers[i] += 1
    bars, people = [], 0
    for i in range(count):
        people += newcomers[i]
        bars.append(GrowthBar(start=first + size * i, complaints=per_bar[i], people=people))
    markers = [
        marker
        for marker in (_growth_marker(a, kind=incident.kind) for a in activities)
        if marker is not None and first <= marker.at <= first + size * count
    ]
    return IncidentGrowth(
        size=size, bars=bars, markers=markers, complaints=len(complaints), people=len(seen), end=end
    )


def lasted_words(span: timedelta) -> str:
    """A duration as people say it: "47 min", "1 h 47 min", "3 h", "2 d 4 h"."""
    minutes = max(int(span.total_seconds()) // 60, 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def resolved_span_words(*, started_at: datetime, resolved_at: datetime) -> str:
    """When a resolved incident ran, as every page writes a time (`local_time_text`, naming the zone):
    "between 19 Nov 2026, 21:18 GMT and 19 Nov 2026, 23:05 GMT (1 h 47 min)"."""
    begun, ended = local_time_text(started_at), local_time_text(resolved_at)
    return f"between {begun} and {ended} ({lasted_words(resolved_at - started_at)})"


def since_words(started_at: datetime) -> str:
    """When something began, for "since ...", as every page writes a time (`local_time_text`): with the day,
    so a time from an earlier day does not read as today's, and the zone, so 01:30 BST and 01:30 GMT on the
    night the clocks go back are told apart: "24 Nov 2026, 21:18 GMT"."""
    return local_time_text(started_at)


# The "since 21:18" `explain` writes after its counts, true on the day the incident opened.
_SUMMARY_SINCE = re.compile(r" since \d{1,2}:\d{2}\b")


def summary_as_shown(summary: str, *, incident: Incident) -> str:
    """A summary `explain` wrote ("... from 12 people since 21:18; ...") as it reads now: a resolved
    incident says when it began and ended, so it no longer reads as still open; one still open says the day
    and zone it began ("since 24 Nov 2026, 21:18 GMT"), not a bare time that reads as today's."""
    if incident.resolved_at is not None:
        span = resolved_span_words(started_at=incident.started_at, resolved_at=incident.resolved_at)
        return _SUMMARY_SINCE.sub(f" {span}", summary, count=1)
    return _SUMMARY_SINCE.sub(f" since {since_words(incident.started_at)}", summary, count=1)


def people_words(posts: list[Mention]) -> tuple[list[str], list[str], int]:
    """Who posted `posts`, each person once as `affected_authors` counts them (by source and author): the
    named ("Sam Price (Facebook Page)": display name or handle, and the channel); the people a channel gives
    no name for (a widget's reporters, known only by a digest), never shown by their id: "a person on
    <channel>" or "3 people on <channel>"; and how many people in all."""
    named: dict[str, str] = {}
    for post in posts:
        if post.author.strip():
            named.setdefault(post.author_key, f"{post.author.strip()} ({post.source.get_kind_display()})")
    unnamed: dict[str, set[str]] = {}
    for post in posts:
        if post.author_key not in named:
            unnamed.setdefault(post.source.get_kind_display(), set()).add(post.author_key)
    groups = [
        f"a person on {channel}" if len(keys) == 1 else f"{len(keys)} people on {channel}"
        for channel, keys in sorted(unnamed.items(), key=lambda item: (-len(item[1]), item[0]))
    ]
    return list(named.values()), groups, len(named) + sum(len(keys) for keys in unnamed.values())


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def explanation_recounted(
    *,
    incident: Incident,
    complaints: int,
    people: int,
    relabelled: int,
    withdrawn_texts: set[str],
    growth: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], str]:
    """The incident's stored explanation with its counts as they are now, and a note saying what it counted
    when it was written, when that differs ("" otherwise). `complaints` and `people` count the attached posts
    that still count (an analyst may have relabelled `relabelled` away since, and more may have attached);
    `withdrawn_texts` are the texts only relabelled posts have, which no longer stand for it; `growth` is
    `explain.complaints_growth` of the posts that count. The stored explanation is left as it was written
    (alerts were sent with it); only explanations detection wrote, which carry their counts, are recounted."""
    written: dict[str, Any] = incident.explanation or {}
    if not isinstance(written.get("affected_authors"), int):
        return dict(written), ""  # written by hand or by an older version: nothing known to recount
    now = dict(written)
    summary = str(written.get("summary") or "")
    written_complaints = explaining.summary_complaints(summary)
    written_people = written["affected_authors"]
    now["summary"] = explaining.summary_recounted(summary, complaints=complaints, people=people)
    now["affected_authors"] = people
    gone = {t.strip() for t in withdrawn_texts}
    now["representatives"] = [t for t in written.get("representatives") or [] if str(t).strip() not in gone]
    if growth is not None and "first_hour" in written:
        now["growth"], now["first_hour"] = growth["text"], growth["first_hour"]
    if people == written_people and written_complaints in (None, complaints):
        return now, ""
    then = (
        f"{_plural(written_complaints, 'complaint', 'complaints')} from "
        if written_complaints is not None
        else ""
    )
    since = []
    if relabelled:
        since.append(
            f"an analyst relabelled {_plural(relabelled, 'attached post', 'attached posts')} "
            "(spam, not a complaint, or another service), which no longer count"
        )
    added = complaints + relabelled - (written_complaints or 0)
    if written_complaints is not None and added > 0:
        since.append(f"{_plural(added, 'more post', 'more posts')} attached")
    note = (
        f"Counted now. When servicepulse wrote this explanation it counted {then}"
        f"{_plural(written_people, 'person', 'people')}"
    )
    return now, note + (f"; since then {' and '.join(since)}." if since else ".")


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
    maintenance = incident.kind == IncidentKind.MAINTENANCE
    timeline = []
    # Not the "posts attached" rows: one per detection run that attached any (thousands for a long incident),
    # which neither the timeline nor the growth chart shows.
    activities = list(incident.activities.exclude(type=ActivityType.MENTIONS_ATTACHED).select_related("user"))
    for activity in activities:
        item = TimelineItem(
            at=activity.at,
            state=activity.state,
            state_label=(
                incident_state_label(state=activity.state, kind=incident.kind)
                if activity.state in labels
                else activity.get_type_display()
            ),
            note=activity.comment or activity.get_type_display(),
            by=activity.user.get_username() if activity.user is not None else "",
        )
        if maintenance and activity.state == IncidentState.CONFIRMED:
            # A planned window is "confirmed" only in the state machine's sense: nothing was detected.
            item.state = IncidentKind.MAINTENANCE
            item.state_label = "Maintenance"
            if activity.type == ActivityType.CREATED and incident.planned_end is not None:
                item.state_label = "Maintenance planned"
                item.window = (incident.started_at, incident.planned_end)
        timeline.append(item)
    not_counted = set(attached_relabelled_away(incident=incident).values_list("pk", flat=True))
    deliveries = list(incident.deliveries.select_related("rule"))
    counted = [p for p in posts if p.pk not in not_counted]
    # One entry per person, as `affected_authors` counts them (by source and author), from the posts that count.
    authors, authors_unnamed, people = people_words(counted)
    # The explanation shows the counts the rest of the page shows (`affected_authors`, the people listed).
    explanation, explanation_note = explanation_recounted(
        incident=incident,
        complaints=len(counted),
        people=people,
        relabelled=len(posts) - len(counted),
        withdrawn_texts={p.text for p in posts if p.pk in not_counted} - {p.text for p in counted},
        growth=explaining.complaints_growth(
            [(p.created_at, p.author_key) for p in counted], started_at=incident.started_at
        ),
    )
    if explanation.get("summary"):
        explanation["summary"] = summary_as_shown(str(explanation["summary"]), incident=incident)
    return IncidentDetail(
        incident=incident,
        posts=posts,
        explanation=explanation,
        authors_unnamed=authors_unnamed,
        people=people,
        lasted=(
            lasted_words(incident.resolved_at - incident.started_at)
            if incident.resolved_at is not None
            else ""
        ),
        explanation_note=explanation_note,
        timeline=timeline,
        authors=authors,
        deliveries=deliveries,
        not_counted=not_counted,
        growth=None
        if maintenance
        else incident_growth(
            incident=incident,
            complaints=[(p.created_at, p.author_key) for p in counted],
            activities=activities,
        ),
    )


@dataclass(frozen=True)
class DetectedIncident:
    """An incident with its explanation unpacked, as the status page and the closed loop show it."""

    id: int
    title: str
    state: str
    service_id: str
    service_name: str
    service_public: bool
    started_at: datetime
    affected_authors: int
    resolved_at: datetime | None = None
    confirmed: bool = True  # False for a detected rise that faded before it was confirmed
    kind: str = IncidentKind.DETECTED  # or opened by hand (IncidentKind.MANUAL)
    summary: str = ""
    terms: list[str] = field(default_factory=list)
    representatives: list[str] = field(default_factory=list)


def detected_incident(*, incident_id: int) -> DetectedIncident | None:
    incident = Incident.objects.select_related("service").filter(pk=incident_id).first()
    if incident is None:
        return None
    explanation: dict[str, Any] = incident.explanation or {}
    relabelled = set(attached_relabelled_away(incident=incident).values_list("pk", flat=True))
    if relabelled:
        # Drafts for the status page must not count the people whose posts an analyst relabelled away.
        attached = Mention.objects.filter(incident_attachments__incident=incident).values_list("pk", "text")
        texts = {pk: text for pk, text in attached}
        counted_texts = {text for pk, text in texts.items() if pk not in relabelled}
        explanation, _ = explanation_recounted(
            incident=incident,
            complaints=len(texts) - len(relabelled),
            people=incident.affected_authors,
            relabelled=len(relabelled),
            withdrawn_texts={texts[pk] for pk in relabelled if pk in texts} - counted_texts,
        )
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
        confirmed=incident.kind != IncidentKind.DETECTED or incident.confirmed_at is not None,
        kind=incident.kind,
        affected_authors=int(explanation.get("affected_authors") or incident.affected_authors or 0),
        summary=summary_as_shown(str(explanation.get("summary") or ""), incident=incident),
        terms=terms,
        representatives=[str(p) for p in explanation.get("representatives", [])],
    )


def detected_incident_mention_ids(*, incident_id: int) -> list[int]:
    """Ids of the complaints attached ("me too") to an incident."""
    return list(IncidentMention.objects.filter(incident_id=incident_id).values_list("mention_id", flat=True))


def detected_confirmed(
    *, exclude_ids: set[int], limit: int = 20, resolved_within: timedelta = timedelta(days=30)
) -> list[DetectedIncident]:
    """Confirmed incidents, and those resolved in the last `resolved_within` after being confirmed (still
    worth an incident report; a rise that faded unconfirmed was never an outage), newest first, leaving out
    `exclude_ids` (those already on the status page). Maintenance is left out."""
    recent = timezone.now() - resolved_within
    ids = (
        Incident.objects.filter(
            Q(state=IncidentState.CONFIRMED)
            | Q(state=IncidentState.RESOLVED, resolved_at__gte=recent, confirmed_at__isnull=False)
        )
        .exclude(kind=IncidentKind.MAINTENANCE)
        .exclude(pk__in=exclude_ids)
        .order_by("-started_at")
        .values_list("pk", flat=True)[:limit]
    )
    return [d for d in (detected_incident(incident_id=i) for i in ids) if d is not None]


def detected_resolved_between(*, since: datetime, until: datetime) -> list[DetectedIncident]:
    """Detected or manual incidents (not maintenance) resolved in [since, until)."""
    ids = (
        Incident.objects.filter(resolved_at__gte=since, resolved_at__lt=until)
        .exclude(kind=IncidentKind.MAINTENANCE)
        .order_by("resolved_at")
        .values_list("pk", flat=True)
    )
    return [d for d in (detected_incident(incident_id=i) for i in ids) if d is not None]


def maintenance_in_progress(*, service_id: str, at: datetime) -> bool:
    """True when a maintenance window for the service is in progress at `at`."""
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


def alert_rule_list(*, service_id: str = "") -> QuerySet[AlertRule]:
    """The alert rules with their services; with `service_id`, only those that alert on that service (the
    rules naming it, and those naming none, which alert on every service)."""
    qs = AlertRule.objects.prefetch_related("services")
    if service_id:
        named = AlertRule.services.through.objects.values("alertrule_id")
        qs = qs.filter(Q(pk__in=named.filter(service_id=service_id)) | ~Q(pk__in=named))
    return qs


def alert_rule_get(*, rule_id: int | str) -> AlertRule | None:
    """One alert rule with its services and the number of its delivery records (`delivery_count`), or None."""
    try:
        pk = int(rule_id)
    except (TypeError, ValueError):
        return None
    return (
        AlertRule.objects.prefetch_related("services")
        .annotate(delivery_count=Count("deliveries"))
        .filter(pk=pk)
        .first()
    )


def alert_delivery_list(*, incident_id: int | None = None) -> QuerySet[AlertDelivery]:
    qs = AlertDelivery.objects.select_related("rule", "incident")
    return qs.filter(incident_id=incident_id) if incident_id is not None else qs


def term_calendar_ends(*, now: datetime | None = None) -> datetime | None:
    """When the term calendar detection uses runs out, if it has or does within `CALENDAR_NOTICE`: past its
    last period every day is ordinary time, so the start of a new term's busy weeks looks like an outage to
    the baseline. None when there is no calendar, it runs on for a while, or its file is broken (the system
    check and detection say that)."""
    try:
        calendar = term_calendar()
    except ImproperlyConfigured:
        return None
    return calendar_runs_out(calendar, now=now or timezone.now())
