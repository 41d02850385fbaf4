"""Writes of the incidents app: incidents and their state, "me too" attachments, maintenance, detection runs,
alert deliveries. `incident_update_status` is the only function that changes an incident's state."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.utils import timezone

from servicepulse.analysis.selectors import AnalysedPost, analysed_posts, history_started
from servicepulse.catalog.models import Service
from servicepulse.core.times import local_time_text
from servicepulse.incidents import explain as explaining
from servicepulse.incidents.buckets import SignalBucket, bucket_floor, bucket_signals, bucket_size
from servicepulse.incidents.calendar import Period, TermCalendar, term_calendar
from servicepulse.incidents.detection import Decision, Detector, DetectorConfig, DetectorState
from servicepulse.incidents.models import (
    OPEN_STATES,
    ActivityType,
    AlertChannel,
    AlertDelivery,
    AlertRule,
    DeliveryStatus,
    DetectorSnapshot,
    Incident,
    IncidentActivity,
    IncidentKind,
    IncidentMention,
    IncidentState,
    incident_state_label,
)
from servicepulse.incidents.selectors import attached_relabelled_away
from servicepulse.mentions.models import Mention
from servicepulse.sources.models import Audience

logger = logging.getLogger(__name__)
User = Any  # the configured user model (settings.AUTH_USER_MODEL); only is_authenticated is used here

PostReader = explaining.PostReader

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 60  # doubled at each retry: 1, 2, 4, 8, 16 minutes
# A target's Retry-After is honoured up to an hour (a wrong one must not silence alerts for days).
RETRY_AFTER_MAX_SECONDS = 3600
# A delivery being sent is its worker's for this long (a send gives up after 20 s).
CLAIM = timedelta(minutes=5)
BASELINE_DAYS = 14
ANALYSIS_WAIT = timedelta(hours=1)  # how long detection waits for a received post to be analysed
_STATE_RANK = {IncidentState.POSSIBLE: 1, IncidentState.CONFIRMED: 2, IncidentState.RESOLVED: 3}
# The state changes `incident_update_status` allows: the one table of them (the incident page offers what
# `selectors.incident_next_states` reads from it).
STATE_TRANSITIONS: dict[IncidentState, frozenset[IncidentState]] = {
    IncidentState.POSSIBLE: frozenset({IncidentState.CONFIRMED, IncidentState.RESOLVED}),
    IncidentState.CONFIRMED: frozenset({IncidentState.RESOLVED}),
    IncidentState.RESOLVED: frozenset({IncidentState.CONFIRMED}),  # reopened
}
NOTE_MAX_CHARS = 4000
# How far ahead of now an incident opened by hand may say it started (a browser's clock, a rounded minute).
START_GRACE = timedelta(minutes=5)
_UNSIGNED_WEBHOOK = "A signed webhook needs its signing secret: its receiver verifies every alert with it."


class IncidentError(ValueError):
    pass


def _unanalysed_since(*, received_after: datetime) -> datetime | None:
    """The creation time of the oldest post received after ``received_after`` that the analysis app has
    not analysed yet (detection waits for it rather than feed an incomplete bucket), or None. Peers' posts
    are never analysed (nor counted by detection): waiting for them held detection back an hour after each."""
    oldest: datetime | None = Mention.objects.filter(
        received_at__gte=received_after, analysis__isnull=True, source__audience=Audience.USERS
    ).aggregate(oldest=Min("created_at"))["oldest"]
    return oldest


# ---- incidents ---------------------------------------------------------------------------------------------


def _activity(
    *,
    incident: Incident,
    type: ActivityType,
    at: datetime,
    previous: str = "",
    state: str = "",
    comment: str = "",
    user: User | None = None,
) -> IncidentActivity:
    return IncidentActivity.objects.create(
        incident=incident,
        type=type,
        previous_state=previous,
        state=state,
        comment=comment,
        user=user if user is not None and user.is_authenticated else None,
        at=at,
    )


@transaction.atomic
def incident_create(
    *,
    service_id: str,
    title: str,
    started_at: datetime,
    kind: IncidentKind = IncidentKind.MANUAL,
    state: IncidentState = IncidentState.CONFIRMED,
    at: datetime | None = None,
    planned_end: datetime | None = None,
    explanation: dict[str, Any] | None = None,
    user: User | None = None,
    comment: str = "",
) -> Incident:
    """Open an incident (detected, by hand, or planned maintenance) and write its creation activity."""
    at = at or timezone.now()
    if state == IncidentState.RESOLVED:
        raise IncidentError("an incident cannot be created resolved")
    if kind == IncidentKind.MANUAL:
        if started_at > at + START_GRACE:
            raise IncidentError(
                f"an incident opened by hand has already started, and {local_time_text(started_at)} is still "
                "to come: give the time it started (for work still to come, plan a maintenance window)"
            )
        # A minute or two ahead is a clock or a rounded "now": it has started, so complaints attach at once.
        started_at = min(started_at, at)
    incident = Incident.objects.create(
        service_id=service_id,
        kind=kind,
        state=state,
        title=title,
        started_at=started_at,
        confirmed_at=at if state == IncidentState.CONFIRMED else None,
        planned_end=planned_end,
        explanation=explanation or {},
        created_by=user if user is not None and user.is_authenticated else None,
    )
    created = _activity(
        incident=incident, type=ActivityType.CREATED, at=at, state=state, comment=comment, user=user
    )
    if kind != IncidentKind.DETECTED and started_at < at:
        # Opened by hand from an earlier start: the complaints since then are about it too (detection attaches
        # only those of the buckets it has yet to read).
        until = min(at, planned_end) if planned_end is not None else at
        earlier = [
            (p.mention_id, p.author_key)
            for p in analysed_posts(since=started_at, until=until, service_ids=[service_id])
            if p.complaint
        ]
        incident_attach_mentions(incident=incident, posts=earlier, at=at)
    if kind != IncidentKind.MAINTENANCE:
        _alerts_on_commit(incident=incident, state=state, activity=created)
    return incident


@transaction.atomic
def incident_update_status(
    *,
    incident: Incident,
    state: IncidentState,
    at: datetime | None = None,
    user: User | None = None,
    comment: str = "",
) -> Incident:
    """Change an incident's state and write the activity row in the same transaction; alerts for the change
    are queued once the transaction commits (one per rule and state change: a reopened incident is alerted
    again)."""
    at = at or timezone.now()
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    previous = IncidentState(locked.state)
    if state == previous:
        return locked
    if state not in STATE_TRANSITIONS[previous]:
        raise IncidentError(f"an incident cannot go from {previous} to {state}")
    locked.state = state
    fields = ["state", "updated_at"]
    if state == IncidentState.CONFIRMED:
        locked.confirmed_at = locked.confirmed_at or at
        locked.resolved_at = None
        fields += ["confirmed_at", "resolved_at"]
    elif state == IncidentState.RESOLVED:
        locked.resolved_at = at
        fields.append("resolved_at")
    locked.save(update_fields=fields)
    change = _activity(
        incident=locked,
        type=ActivityType.STATE_CHANGED,
        at=at,
        previous=previous,
        state=state,
        comment=comment,
        user=user,
    )
    if locked.kind != IncidentKind.MAINTENANCE:
        _alerts_on_commit(incident=locked, state=state, activity=change)
    incident.state, incident.confirmed_at, incident.resolved_at = (
        locked.state,
        locked.confirmed_at,
        locked.resolved_at,
    )
    return locked


def incident_add_note(*, incident: Incident, comment: str, user: User | None = None) -> IncidentActivity:
    """Add a note to an incident's timeline (at most `NOTE_MAX_CHARS` characters)."""
    comment = comment.strip()
    if not comment:
        raise IncidentError("a note needs some text")
    if len(comment) > NOTE_MAX_CHARS:
        raise IncidentError(f"a note is at most {NOTE_MAX_CHARS} characters (this one has {len(comment)})")
    return _activity(incident=incident, type=ActivityType.NOTE, at=timezone.now(), comment=comment, user=user)


@transaction.atomic
def incident_attach_mentions(
    *, incident: Incident, posts: Iterable[tuple[int, str]], at: datetime | None = None
) -> int:
    """Attach complaints ("me too") given as (mention id, author key); returns how many were new and
    refreshes the count of distinct affected people."""
    rows = [IncidentMention(incident=incident, mention_id=mid, author_key=key) for mid, key in posts]
    if not rows:
        return 0
    before = IncidentMention.objects.filter(incident=incident).count()
    IncidentMention.objects.bulk_create(rows, ignore_conflicts=True)
    added = IncidentMention.objects.filter(incident=incident).count() - before
    if added:
        incident.affected_authors = _affected_count(incident)
        incident.save(update_fields=["affected_authors", "updated_at"])
        _activity(
            incident=incident,
            type=ActivityType.MENTIONS_ATTACHED,
            at=at or timezone.now(),
            comment=f"{added} post(s) attached; {incident.affected_authors} people affected",
        )
    return added


def _affected_count(incident: Incident) -> int:
    """Distinct people among the incident's attached posts, leaving out those an analyst has since relabelled
    away from it (marked spam, not a complaint, or about another service)."""
    return (
        IncidentMention.objects.filter(incident=incident)
        .exclude(mention_id__in=attached_relabelled_away(incident=incident))
        .values("author_key")
        .distinct()
        .count()
    )


def incident_recount_for(*, mention_ids: Iterable[int]) -> int:
    """Recount the people affected by every incident these posts are attached to, after their labels were
    corrected. Returns how many incidents changed."""
    changed = 0
    incidents = Incident.objects.filter(attachments__mention_id__in=list(mention_ids)).distinct()
    for incident in incidents:
        count = _affected_count(incident)
        if count != incident.affected_authors:
            incident.affected_authors = count
            incident.save(update_fields=["affected_authors", "updated_at"])
            changed += 1
    return changed


ERASED = "[erased]"
_MIN_QUOTE_CHARS = 20  # a post shorter than this ("down", "same here") is not looked for inside notes


@transaction.atomic
def incidents_erase_author(*, author: str, mention_ids: Iterable[int]) -> int:
    """Take a person out of the incidents, before their posts `mention_ids` are deleted (`servicepulse
    erase-author`, through `mentions.signals.author_erasing`): detach the posts, recount the people affected,
    take their name and their words out of the stored explanations, and write "[erased]" where an incident's
    title or a timeline comment names them (`author`, or a name or platform id on their posts) or quotes one
    of their posts. Returns how many incidents changed.

    The stored explanation loses its entry in `authors`, the representative posts only they wrote, and their
    share of the counts it was written with (the people, the complaints, each rising word's posts; a word
    fewer than two posts still use is dropped)."""
    erased = list(Mention.objects.filter(pk__in=list(mention_ids)).order_by("pk"))
    names = {n for n in [author.strip(), *(v for m in erased for v in (m.author, m.author_id))] if n}
    changed: set[int] = set()
    by_id = {m.pk: m for m in erased}
    attached: dict[int, list[Mention]] = {}
    for incident_id, mention_id in IncidentMention.objects.filter(mention__in=erased).values_list(
        "incident_id", "mention_id"
    ):
        attached.setdefault(incident_id, []).append(by_id[mention_id])
    for incident in Incident.objects.filter(pk__in=list(attached)).order_by("pk"):
        theirs = attached[incident.pk]
        IncidentMention.objects.filter(incident=incident, mention__in=theirs).delete()
        incident.affected_authors = _affected_count(incident)
        remaining = list(Mention.objects.filter(incident_attachments__incident=incident))
        not_counted = set(attached_relabelled_away(incident=incident).values_list("pk", flat=True))
        counted = [m for m in remaining if m.pk not in not_counted]
        incident.explanation = _explanation_without(
            incident.explanation or {},
            posts=theirs,
            names=names | {m.author_key for m in theirs},
            remaining_texts={m.text.strip() for m in remaining},
            growth=explaining.complaints_growth(
                [(m.created_at, m.author_key) for m in counted], started_at=incident.started_at
            ),
        )
        incident.save(update_fields=["affected_authors", "explanation", "updated_at"])
        changed.add(incident.pk)
    quotes = {m.text.strip() for m in erased if len(m.text.strip()) >= _MIN_QUOTE_CHARS}
    needles = sorted(names | quotes)
    if needles:
        wanted = Q()
        for needle in needles:
            wanted |= Q(comment__icontains=needle)
        # "N post(s) attached; M people affected" is written by servicepulse and names nobody.
        for activity in IncidentActivity.objects.filter(wanted).exclude(type=ActivityType.MENTIONS_ATTACHED):
            redacted = _redacted(activity.comment, names=names, quotes=quotes)
            if redacted != activity.comment:
                activity.comment = redacted
                activity.save(update_fields=["comment"])
                changed.add(activity.incident_id)
        titled = Q()
        for needle in needles:
            titled |= Q(title__icontains=needle)
        for incident in Incident.objects.filter(titled):
            redacted = _redacted(incident.title, names=names, quotes=quotes)
            if redacted != incident.title:
                incident.title = redacted[:300]
                incident.save(update_fields=["title", "updated_at"])
                changed.add(incident.pk)
    return len(changed)


@transaction.atomic
def incidents_forget_expired_posts(*, mention_ids: Iterable[int]) -> int:
    """Posts past their source's retention are about to be deleted (`mentions.signals.mentions_expiring`): each
    incident's stored explanation forgets the names of people none of whose attached posts remain, and the
    representative posts no remaining attached post says. The incident's history stays as it was: the
    people affected, the complaints and the rising words are counts, not anyone's data. Returns how many
    incidents changed."""
    expiring = set(mention_ids)
    incident_ids = set(
        IncidentMention.objects.filter(mention_id__in=list(expiring)).values_list("incident_id", flat=True)
    )
    changed = 0
    for incident in Incident.objects.filter(pk__in=list(incident_ids)).order_by("pk"):
        written = incident.explanation or {}
        if not written:
            continue
        attached = list(
            Mention.objects.filter(incident_attachments__incident=incident).only(
                "pk", "author", "author_id", "text"
            )
        )
        staying = [m for m in attached if m.pk not in expiring]
        gone = [m for m in attached if m.pk in expiring]
        kept_names = {n for m in staying for n in (m.author, m.author_key) if n}
        gone_names = {n for m in gone for n in (m.author, m.author_key) if n} - kept_names
        kept_texts = {m.text.strip() for m in staying}
        gone_texts = {m.text.strip() for m in gone} - kept_texts
        now = dict(written)
        if isinstance(written.get("authors"), list):
            now["authors"] = [a for a in written["authors"] if str(a) not in gone_names]
        if isinstance(written.get("representatives"), list):
            now["representatives"] = [
                t for t in written["representatives"] if str(t).strip() not in gone_texts
            ]
        if now != written:
            incident.explanation = now
            incident.save(update_fields=["explanation", "updated_at"])
            changed += 1
    return changed


def _redacted(text: str, *, names: set[str], quotes: set[str]) -> str:
    """`text` with each quoted post, then each name or handle (a whole word, with or without "@"), replaced."""
    for quote in sorted(quotes, key=len, reverse=True):
        text = re.sub(re.escape(quote), ERASED, text, flags=re.IGNORECASE)
    for name in sorted((n for n in names if _findable(n)), key=len, reverse=True):
        text = re.sub(rf"(?<![\w@])@?{re.escape(name)}(?!\w)", ERASED, text, flags=re.IGNORECASE)
    return text


def _findable(name: str) -> bool:
    """Whether a name or platform id can be told apart in free text: not "a", nor a short number ("42", which
    a note's counts and times use)."""
    return len(name) > 1 and not (name.isdigit() and len(name) < 6)


def _explanation_without(
    written: dict[str, Any],
    *,
    posts: list[Mention],
    names: set[str],
    remaining_texts: set[str],
    growth: dict[str, Any],
) -> dict[str, Any]:
    """A stored explanation without the person who wrote `posts` (now detached): see `incidents_erase_author`.
    `names` are what `explain` may have listed them as (name, platform id or author key); `remaining_texts`
    the texts of the posts still attached (a representative another person also wrote stays)."""
    if not written:
        return written
    now = dict(written)
    authors = written.get("authors")
    removed: set[str] = set()
    if isinstance(authors, list):
        removed = {str(a) for a in authors if str(a) in names}
        now["authors"] = [a for a in authors if str(a) not in names]
    gone = {m.text.strip() for m in posts} - remaining_texts
    representatives = written.get("representatives")
    if isinstance(representatives, list):
        now["representatives"] = [t for t in representatives if str(t).strip() not in gone]
    # Their share of what the explanation counted: only posts by someone it listed were counted in it.
    counted = [m for m in posts if (m.author or m.author_key) in removed]
    if counted and isinstance(written.get("affected_authors"), int):
        people = max(written["affected_authors"] - len(removed), 0)
        summary = str(written.get("summary") or "")
        written_complaints = explaining.summary_complaints(summary)
        complaints = max(written_complaints - len(counted), people) if written_complaints is not None else 0
        now["affected_authors"] = people
        now["summary"] = explaining.summary_recounted(summary, complaints=complaints, people=people)
    terms = written.get("terms")
    if counted and isinstance(terms, list):
        words = [explaining.said_words(m.text) for m in counted]
        kept = []
        for term in terms:
            if not isinstance(term, dict) or not isinstance(term.get("posts"), int):
                kept.append(term)
                continue
            left = term["posts"] - sum(1 for w in words if term.get("term") in w)
            if left >= 2:  # `explain.rising_terms`' min_count
                kept.append({**term, "posts": left})
        if kept != terms:
            now["terms"] = kept
            now["summary"] = _summary_terms(str(now.get("summary") or ""), kept)
    if counted and "first_hour" in written:
        now["growth"], now["first_hour"] = growth["text"], growth["first_hour"]
    return now


_SUMMARY_TERMS = re.compile(r"; most mention (?:“[^”]*”(?:, )?)+(?=\.?$)")


def _summary_terms(summary: str, terms: list[Any]) -> str:
    """A summary `explain` wrote with its "most mention" words replaced by the first three of `terms`."""
    names = [str(t["term"]) for t in terms[:3] if isinstance(t, dict) and t.get("term")]
    clause = "; most mention " + ", ".join(f"“{n}”" for n in names) if names else ""
    return _SUMMARY_TERMS.sub(lambda _: clause, summary, count=1)


@transaction.atomic
def maintenance_schedule(
    *,
    service_id: str,
    title: str,
    start: datetime,
    end: datetime,
    user: User | None = None,
    note: str = "",
) -> Incident:
    """Plan a maintenance window: while it is open, complaints attach to it and detection raises nothing.
    A `note` (what the team should know about the work) goes on its timeline."""
    if end <= start:
        raise IncidentError("a maintenance window must end after it starts")
    window = incident_create(
        service_id=service_id,
        title=title,
        started_at=start,
        planned_end=end,
        kind=IncidentKind.MAINTENANCE,
        state=IncidentState.CONFIRMED,
        user=user,
        comment=f"planned from {local_time_text(start)} to {local_time_text(end)}",
    )
    if note.strip():
        incident_add_note(incident=window, comment=note, user=user)
    return window


def maintenance_complete_due(*, now: datetime | None = None) -> list[int]:
    """Complete the maintenance windows whose planned end has passed (the periodic sweep), so they leave the
    open incidents; returns their ids. One ended early is completed by hand on its page."""
    now = now or timezone.now()
    due = Incident.objects.filter(
        kind=IncidentKind.MAINTENANCE, state__in=OPEN_STATES, planned_end__lte=now
    ).order_by("planned_end", "id")
    done = []
    for window in due:
        assert window.planned_end is not None  # the filter says so
        incident_update_status(
            incident=window,
            state=IncidentState.RESOLVED,
            at=window.planned_end,
            comment="completed: the planned window ended",
        )
        done.append(window.pk)
    return done


def _open_incident(service_id: str, at: datetime) -> Incident | None:
    """The incident new complaints about a service attach to at `at`: an open detected or manual incident,
    or a maintenance window in progress."""
    return (
        Incident.objects.filter(service_id=service_id, state__in=OPEN_STATES, started_at__lte=at)
        .filter(~Q(kind=IncidentKind.MAINTENANCE) | Q(planned_end__gt=at))
        .order_by("-started_at", "-id")
        .first()
    )


# ---- detection ---------------------------------------------------------------------------------------------


@dataclass
class DetectionSummary:
    buckets: int = 0
    opened: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    attached: int = 0

    def __str__(self) -> str:
        return (
            f"{self.buckets} buckets, {len(self.opened)} opened, {len(self.confirmed)} confirmed, "
            f"{len(self.resolved)} resolved, {self.attached} posts attached"
        )


def _new_detector(service: Service, size: timedelta, calendar: TermCalendar | None) -> Detector:
    config = DetectorConfig(bucket_minutes=size.total_seconds() / 60, sensitivity=service.sensitivity)
    return Detector(config=config, calendar=calendar)


def _load_detector(
    snapshot: DetectorSnapshot, service: Service, size: timedelta, calendar: TermCalendar | None
) -> Detector:
    if snapshot.state:
        try:
            detector = Detector.from_state(snapshot.state, calendar=calendar, sensitivity=service.sensitivity)
            if detector.config.bucket_minutes == size.total_seconds() / 60:
                return detector
        except (ValueError, KeyError, TypeError):
            logger.warning("detector state of %s unreadable; starting afresh", service.pk)
    return _new_detector(service, size, calendar)


def _history_start(service: Service, end: datetime) -> datetime:
    """Where a new service's detector starts: its oldest post, or when it entered the catalogue if no post is
    older, and at most BASELINE_DAYS back. Not a fortnight of empty buckets before the service existed: those
    would use up its first 48 hours of learning before anyone had written about it, and its first few
    complaints would then raise an incident."""
    return max(history_started(services=[service])[service.pk], end - timedelta(days=BASELINE_DAYS))


def run_detection(
    *,
    now: datetime | None = None,
    service_ids: list[str] | None = None,
    since: datetime | None = None,
    reader: PostReader | None = None,
) -> DetectionSummary:
    """Feed every complete bucket not yet seen to each service's detector and act on its decisions.
    Idempotent: each bucket is fed once (the snapshot remembers the last), so the scheduler may call it
    as often as it likes."""
    now = now or timezone.now()
    read = reader or analysed_posts
    size = bucket_size()
    end = bucket_floor(now, size)  # only complete buckets
    if reader is None:
        # Wait for posts still being analysed (received within the hour), so no bucket is fed half-counted.
        waiting = _unanalysed_since(received_after=timezone.now() - ANALYSIS_WAIT)
        if waiting is not None:
            end = min(end, bucket_floor(waiting, size))
    services = Service.objects.all() if service_ids is None else Service.objects.filter(pk__in=service_ids)
    # Read once: every service of a run sees the same calendar, even if its file is edited meanwhile.
    calendar = term_calendar()
    summary = DetectionSummary()
    usual = _usual_words(read, shared=reader is None)
    for service in services:
        snapshot, _ = DetectorSnapshot.objects.get_or_create(service=service, defaults={"feed_from": since})
        if snapshot.last_bucket is not None:
            start = snapshot.last_bucket + size
        else:
            # A backfill whose posts were still being analysed resumes from where it was asked to start.
            first = since or snapshot.feed_from or _history_start(service, end)
            start = bucket_floor(first, size)
        if start >= end:
            continue
        detector = _load_detector(snapshot, service, size, calendar)
        posts = list(read(since=start, until=end, service_ids=[service.pk]))
        buckets = bucket_signals(posts, service_id=service.pk, start=start, end=end, size=size)
        by_id = {p.mention_id: p for p in posts}
        own_words = explaining.service_words(service.name, service.aliases)
        for bucket in buckets:
            entering = detector.state not in (DetectorState.POSSIBLE, DetectorState.CONFIRMED)
            corroborate = explaining.corroborator(
                service_id=service.pk,
                own_words=own_words,
                end=bucket.start + size,
                size=size,
                min_authors=detector.config.min_authors,
                read=read,
                usual=usual,
            )
            # In the organisation's time zone: its hour-of-day and weekday rhythm is the people's (in UTC it
            # moved an hour at each clock change, to be learnt again over a week).
            # Three people make an incident only if their complaints are mainly about this service: during a VLE
            # outage, "can't get into Moodle, the sign-on page loops" counts for single sign-on too, but
            # does not open a sign-on incident (it attaches to the VLE's).
            decision = detector.update(
                timezone.localtime(bucket.start),
                bucket.complaints,
                bucket.author_keys,
                corroborate,
                leading=bucket.leading_keys,
            )
            _act(
                service=service,
                bucket=bucket,
                decision=decision,
                detector=detector,
                by_id=by_id,
                summary=summary,
                read=read,
                entering=entering,
            )
            summary.buckets += 1
        snapshot.state = detector.to_state()
        snapshot.last_bucket = buckets[-1].start if buckets else snapshot.last_bucket
        snapshot.save()
    return summary


def _usual_words(read: PostReader, *, shared: bool) -> Callable[[datetime], explaining.UsualWords]:
    """What the usual complaints before a day say, for telling an unusual word (`explain.corroborator`): read
    at most once per day by a detection run and, from the analysis app (``shared``), kept for a day in the
    cache every worker shares (the fortnight before a day does not change)."""
    if not shared:
        return explaining.usual_words_reader(read, baseline=timedelta(days=BASELINE_DAYS))
    # From the analysis app, only the complaints are read: the fortnight of every service's posts is many more.
    load = explaining.usual_words_reader(
        partial(analysed_posts, complaints_only=True), baseline=timedelta(days=BASELINE_DAYS)
    )

    seen: dict[datetime, explaining.UsualWords] = {}

    def cached(day: datetime) -> explaining.UsualWords:
        if day not in seen:
            key = f"servicepulse:incidents:usual-words:{BASELINE_DAYS}:{day:%Y-%m-%d}"
            found = cache.get(key)
            if not isinstance(found, explaining.UsualWords):
                found = load(day)
                cache.set(key, found, timeout=24 * 3600)
            seen[day] = found
        return seen[day]

    return cached


def detection_backfill(
    *,
    since: datetime,
    until: datetime | None = None,
    progress: bool = False,
    reader: PostReader | None = None,
) -> str:
    """Run detection over history from `since` (fresh detectors), as if it had run live all along."""
    DetectorSnapshot.objects.all().delete()
    summary = run_detection(now=until or timezone.now(), since=since, reader=reader)
    return str(summary)


def _evidence_words(score: float) -> str:
    """The detector's score (1 = the level that confirms an incident) in words for the timeline."""
    if score >= 1:
        return f"the rise is {score:.1f}x as strong as it takes to confirm an incident"
    return f"the rise is at {score:.0%} of the strength that confirms an incident"


def _act(
    *,
    service: Service,
    bucket: SignalBucket,
    decision: Decision,
    detector: Detector,
    by_id: dict[int, AnalysedPost],
    summary: DetectionSummary,
    read: PostReader,
    entering: bool,
) -> None:
    state = decision.state
    if (
        entering
        and state not in (DetectorState.POSSIBLE, DetectorState.CONFIRMED)
        and not bucket.complaint_ids
    ):
        # A quiet bucket with the detector idle before and after: nothing opens, changes or attaches. Most
        # buckets are like this; skipping the incident lookup makes a six-week backfill 5x faster.
        return
    # One transaction for what the bucket changes: a state change's alerts are queued when it commits, so
    # after the bucket's complaints are attached (a new incident's alert must not say "0 people affected").
    with transaction.atomic():
        at = bucket.start + timedelta(minutes=detector.config.bucket_minutes)  # the bucket is complete then
        incident = _open_incident(service.pk, at)
        # A detected incident opens when the detector enters "possible" or "confirmed" (not when a rise that
        # began inside a maintenance window or a resolved incident carries on).
        if incident is None and entering and state in (DetectorState.POSSIBLE, DetectorState.CONFIRMED):
            # Onset: the first bucket of the evidence window that had complaints.
            window = detector.onset_window(decision)
            onset = bucket.start - timedelta(minutes=detector.config.bucket_minutes * (window - 1))
            recent = [p for p in by_id.values() if p.complaint and onset <= p.created_at < at]
            if recent:
                onset = min(p.created_at for p in recent)
            incident = incident_create(
                service_id=service.pk,
                title=f"{service.name}: complaints rising",
                started_at=onset,
                kind=IncidentKind.DETECTED,
                state=IncidentState.POSSIBLE,
                at=at,
                comment=_evidence_words(decision.score),
            )
            summary.opened.append(incident.pk)
            summary.attached += incident_attach_mentions(
                incident=incident, posts=[(p.mention_id, p.author_key) for p in recent], at=at
            )
        if incident is None:
            return
        detected = incident.kind == IncidentKind.DETECTED
        # Detection resolves an incident only when the rise it was following ends in this bucket (the detector
        # leaves "possible" or "confirmed"). One a person reopened after that is theirs to resolve: a calm
        # detector's next ordinary complaint must not close it again (new complaints attach to it instead).
        resolving = detected and not entering and state in (DetectorState.RESOLVED, DetectorState.CALM)
        if bucket.complaint_ids and not resolving:
            # Attached before the explanation is written and the state changes: the confirmed alert and the
            # incident page quote it, and must count the complaints that confirmed it.
            summary.attached += incident_attach_mentions(
                incident=incident,
                posts=[(mid, by_id[mid].author_key) for mid in bucket.complaint_ids if mid in by_id],
                at=at,
            )
        if not detected:
            return
        if decision.score > incident.peak_score:
            incident.peak_score = decision.score
            incident.save(update_fields=["peak_score", "updated_at"])
        if state == DetectorState.CONFIRMED and incident.state == IncidentState.POSSIBLE:
            _refresh_explanation(
                incident, at=at, by_id=by_id, expected=decision.expected, detector=detector, read=read
            )
            comment = f"confirmed: {_evidence_words(decision.score)}"
            if decision.corroboration:
                # Confirmed on what the posts say, not on their number alone.
                comment = (
                    f"confirmed: {decision.corroboration}, rare in the usual complaints (the same problem, "
                    f"not a coincidence); {_evidence_words(decision.score)}"
                )
            incident_update_status(incident=incident, state=IncidentState.CONFIRMED, at=at, comment=comment)
            summary.confirmed.append(incident.pk)
        elif resolving:
            # The resolving bucket's complaints are back to the usual level: not attached (as before).
            _refresh_explanation(incident, at=at, by_id=by_id, expected=None, detector=detector, read=read)
            incident_update_status(
                incident=incident,
                state=IncidentState.RESOLVED,
                at=at,
                comment="complaints back to the usual level"
                # Confirmed by a person while the detector still read it as possible: it was confirmed.
                if state == DetectorState.RESOLVED or incident.state == IncidentState.CONFIRMED
                else "the rise faded before it was confirmed",
            )
            summary.resolved.append(incident.pk)


def _refresh_explanation(
    incident: Incident,
    *,
    at: datetime,
    by_id: dict[int, AnalysedPost],
    expected: float | None,
    detector: Detector,
    read: PostReader,
) -> None:
    attached = set(IncidentMention.objects.filter(incident=incident).values_list("mention_id", flat=True))
    posts = [p for mid, p in by_id.items() if mid in attached]
    missing = attached - set(by_id)
    if missing:
        posts += [
            p
            for p in read(since=incident.started_at, until=at, service_ids=[incident.service_id])
            if p.mention_id in missing
        ]
    baseline = [
        p
        for p in read(
            since=incident.started_at - timedelta(days=BASELINE_DAYS),
            until=incident.started_at,
            service_ids=[incident.service_id],
        )
        if p.complaint
    ]
    # What people read: the usual rate as it comes (Detector.usual), not the baseline's raw expectation.
    per_hour = (
        expected * detector.calibration * 60 / detector.config.bucket_minutes
        if expected is not None
        else None
    )
    incident.explanation = explaining.explain(
        service_name=incident.service.name,
        incident_posts=posts,
        baseline_posts=baseline,
        started_at=incident.started_at,
        expected_per_hour=per_hour,
        embedder=explaining.default_embedder(),
    )
    incident.save(update_fields=["explanation", "updated_at"])


# ---- alerts ------------------------------------------------------------------------------------------------


def alert_rule_check(
    *,
    name: str,
    channel: str,
    target: str,
    secret: str = "",
    service_ids: list[str] | None = None,
    quiet_start: time | None = None,
    quiet_end: time | None = None,
    rule: AlertRule | None = None,
) -> str:
    """Refuse a rule no alert could ever be delivered through, with a `ValidationError` keyed by field (name,
    channel, target, secret, services, quiet_end); returns the target as the rule stores it. `rule` is the
    rule being changed, if any: its own name is not a duplicate, and an empty secret keeps its secret.

    A name is unique (ignoring case); the target must suit the channel (`alerts.checked_target`); a signed
    webhook needs its signing secret (the receiver verifies every alert with it); quiet hours need both
    ends, and different ones."""
    from servicepulse.incidents import alerts

    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "Give the rule a name."
    elif AlertRule.objects.filter(name__iexact=name).exclude(pk__in=[rule.pk] if rule else []).exists():
        errors["name"] = f"There is already an alert rule called “{name}”."
    try:
        target = alerts.checked_target(channel=channel, target=target)
    except alerts.TargetError as exc:
        errors["channel" if channel not in AlertChannel.values else "target"] = str(exc)
    if channel == AlertChannel.WEBHOOK and not (secret or (rule.secret if rule else "")):
        errors["secret"] = _UNSIGNED_WEBHOOK
    if service_ids:
        known = set(Service.objects.filter(pk__in=service_ids).values_list("pk", flat=True))
        unknown = [sid for sid in service_ids if sid not in known]
        if unknown:
            errors["services"] = "No such service: " + ", ".join(unknown) + "."
    if (quiet_start is None) != (quiet_end is None):
        errors["quiet_end"] = "Give both ends of the quiet hours, or neither."
    elif quiet_start is not None and quiet_start == quiet_end:
        errors["quiet_end"] = "Quiet hours must end at a different time than they start."
    if errors:
        raise ValidationError(errors)
    return target


def _alert_rule_save(
    *,
    rule: AlertRule,
    name: str,
    channel: str,
    target: str,
    service_ids: list[str] | None,
    min_state: IncidentState | str,
    secret: str,
    quiet_start: time | None,
    quiet_end: time | None,
) -> AlertRule:
    stored = alert_rule_check(
        name=name,
        channel=channel,
        target=target,
        secret=secret,
        service_ids=service_ids,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        rule=rule if rule.pk else None,
    )
    rule.name, rule.channel, rule.target, rule.min_state = name.strip(), channel, stored, min_state
    rule.quiet_start, rule.quiet_end = quiet_start, quiet_end
    if channel != AlertChannel.WEBHOOK:
        rule.set_secret("")  # only the signed webhook signs
    elif secret:
        rule.set_secret(secret)
    rule.full_clean(exclude=["secrets_encrypted"])
    with transaction.atomic():
        rule.save()
        rule.services.set(Service.objects.filter(pk__in=service_ids or []))
        # Alerts held for the old quiet hours: the next sweep sends them, or holds them for the new ones.
        AlertDelivery.objects.filter(rule=rule, status=DeliveryStatus.HELD).update(
            next_attempt_at=timezone.now()
        )
    return rule


def alert_rule_create(
    *,
    name: str,
    channel: str,
    target: str,
    service_ids: list[str] | None = None,
    min_state: IncidentState | str = IncidentState.CONFIRMED,
    secret: str = "",
    quiet_start: time | None = None,
    quiet_end: time | None = None,
) -> AlertRule:
    """Add an alert rule; refused (`ValidationError`, see `alert_rule_check`) when its alerts could never be
    delivered. No services: every service."""
    return _alert_rule_save(
        rule=AlertRule(),
        name=name,
        channel=channel,
        target=target,
        service_ids=service_ids,
        min_state=min_state,
        secret=secret,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
    )


def alert_rule_update(
    *,
    rule: AlertRule,
    name: str,
    channel: str,
    target: str,
    service_ids: list[str] | None = None,
    min_state: IncidentState | str = IncidentState.CONFIRMED,
    secret: str = "",
    quiet_start: time | None = None,
    quiet_end: time | None = None,
) -> AlertRule:
    """Change an alert rule, checked as `alert_rule_create` does; an empty `secret` keeps the current one.
    Deliveries still waiting for a retry or the end of quiet hours go out through the changed rule, and
    those held for quiet hours are held for its new quiet hours only (none: sent at the next sweep)."""
    return _alert_rule_save(
        rule=rule,
        name=name,
        channel=channel,
        target=target,
        service_ids=service_ids,
        min_state=min_state,
        secret=secret,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
    )


def alert_rule_set_enabled(*, rule: AlertRule, enabled: bool) -> AlertRule:
    """Switch a rule on or off. A disabled rule queues nothing, and its deliveries still waiting (retries,
    quiet hours) are not sent: see `alert_deliver`."""
    rule.enabled = enabled
    rule.save(update_fields=["enabled"])
    return rule


def alert_rule_delete(*, rule: AlertRule) -> int:
    """Delete a rule and its delivery records (the incidents' "Alerts sent" lose those lines); returns how
    many delivery records went with it."""
    with transaction.atomic():
        deliveries = AlertDelivery.objects.filter(rule=rule).count()
        rule.delete()
    return deliveries


@dataclass(frozen=True)
class AlertTrial:
    """What a test alert came to: `sent` or not, and one line saying so for the page."""

    sent: bool
    line: str


def alert_rule_send_test(*, rule: AlertRule) -> AlertTrial:
    """Send a clearly marked test alert through `rule`'s channel now and say how it went, in one line. It
    goes out at once with a short timeout (not through the delivery queue), whatever the rule's quiet hours
    or switch, and is recorded nowhere: no delivery row, nothing on any incident."""
    from servicepulse.incidents import alerts

    try:
        status = alerts.send_trial(rule)
    except alerts.DeliveryError as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return AlertTrial(sent=False, line=f"Test alert failed: {detail[:300]}")
    if status is None:
        return AlertTrial(sent=True, line=f"Test alert sent: e-mail to {rule.target}")
    return AlertTrial(sent=True, line=f"Test alert sent: HTTP {status}")


def _rule_matches(rule: AlertRule, incident: Incident, state: str) -> bool:
    services = {s.pk for s in rule.services.all()}
    if services and incident.service_id not in services:
        return False
    if state == IncidentState.RESOLVED:
        # Announce a resolution only to rules that heard about the incident.
        return (
            AlertDelivery.objects.filter(rule=rule, incident=incident)
            .exclude(incident_state=IncidentState.RESOLVED)
            .exists()
        )
    return _STATE_RANK[IncidentState(state)] >= _STATE_RANK[IncidentState(rule.min_state)]


def _alerts_on_commit(*, incident: Incident, state: str, activity: IncidentActivity) -> None:
    incident_id, activity_id = incident.pk, activity.pk
    transaction.on_commit(lambda: alerts_queue(incident_id=incident_id, state=state, activity_id=activity_id))


def _in_quiet_hours(rule: AlertRule, moment: datetime) -> datetime | None:
    """If `moment` falls in the rule's quiet hours, when they end; else None."""
    if rule.quiet_start is None or rule.quiet_end is None or rule.quiet_start == rule.quiet_end:
        return None
    local = timezone.localtime(moment)
    now_t = local.time()
    start, end = rule.quiet_start, rule.quiet_end
    inside = start <= now_t < end if start < end else (now_t >= start or now_t < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def _state_change(incident: Incident, state: str) -> IncidentActivity | None:
    """The incident's latest activity row that put it in `state` (its creation or a state change)."""
    return (
        IncidentActivity.objects.filter(
            incident=incident, type__in=[ActivityType.CREATED, ActivityType.STATE_CHANGED], state=state
        )
        .order_by("-at", "-pk")
        .first()
    )


def alerts_queue(
    *, incident_id: int, state: str, activity_id: int | None = None, now: datetime | None = None
) -> list[AlertDelivery]:
    """Create one delivery per matching rule for this state change and send them, or hold them until the
    rule's quiet hours end. The state change is the activity row `activity_id` (by default the latest that
    put the incident in `state`); unique constraints make a second call for the same change queue nothing,
    while a later change to the same state (a reopened incident confirmed again) is alerted again."""
    now = now or timezone.now()
    incident = Incident.objects.select_related("service").filter(pk=incident_id).first()
    if incident is None:
        return []
    if activity_id is not None:
        activity = IncidentActivity.objects.filter(pk=activity_id, incident=incident).first()
    else:
        activity = _state_change(incident, state)
    created = []
    for rule in AlertRule.objects.filter(enabled=True).prefetch_related("services"):
        if not _rule_matches(rule, incident, state):
            continue
        quiet_until = _in_quiet_hours(rule, now)
        try:
            with transaction.atomic():
                delivery = AlertDelivery.objects.create(
                    rule=rule,
                    incident=incident,
                    incident_state=state,
                    activity=activity,
                    status=DeliveryStatus.HELD if quiet_until else DeliveryStatus.PENDING,
                    next_attempt_at=quiet_until or now,
                )
        except IntegrityError:
            continue  # this state change was already alerted through this rule
        created.append(delivery)
        if quiet_until is None:
            _enqueue_delivery(delivery.pk)
    return created


def _enqueue_delivery(delivery_id: int, run_after: datetime | None = None) -> None:
    from servicepulse.incidents.tasks import alert_deliver_task

    task = alert_deliver_task
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # the periodic sweep (alerts_deliver_due) sends it when due
        task = task.using(run_after=run_after)
    task.enqueue(delivery_id)


def _delivery_cancel(delivery: AlertDelivery, *, now: datetime, reason: str) -> AlertDelivery:
    """Cancel a delivery that is rightly not sent (its rule disabled, or superseded), saying why in its log.
    Cancelled is not failed: nothing is wrong with the channel, so no error is kept to alarm anyone (an
    earlier attempt's error stays in the log)."""
    delivery.status = DeliveryStatus.CANCELLED
    delivery.next_attempt_at = None
    delivery.last_error = ""
    delivery.add_log(at=now.isoformat(), outcome="cancelled", detail=reason)
    delivery.save(update_fields=["status", "next_attempt_at", "last_error", "log"])
    return delivery


def alert_deliver(*, delivery_id: int, now: datetime | None = None) -> AlertDelivery | None:
    """One attempt at a delivery that is due; on failure schedules the next with exponential back-off (or
    the wait a 429 or 503 asked for). A worker first claims the delivery with one conditional UPDATE, so two
    workers (the deferred retry and the sweep, or two sweeps) never send it twice, and no database lock is
    held while the channel answers. Not sent: a delivery not due yet (quiet hours, back-off, or another
    worker sending it), one in its rule's quiet hours (held until they end), and, cancelled (not failed),
    one whose rule was disabled or that a later state change of the same incident has superseded (a
    "confirmed" still held or retrying when the "resolved" came: only the newer alert is sent)."""
    from servicepulse.incidents import alerts

    now = now or timezone.now()
    delivery = (
        AlertDelivery.objects.select_related("rule", "incident", "incident__service")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.HELD):
        return delivery
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        return delivery
    rule = delivery.rule
    if not rule.enabled:
        # Switched off (often because its target was wrong): nothing more goes out through it.
        return _delivery_cancel(delivery, now=now, reason="not sent: the alert rule was disabled")
    newer = (
        AlertDelivery.objects.filter(rule=rule, incident_id=delivery.incident_id, pk__gt=delivery.pk)
        .order_by("-pk")
        .first()
    )
    if newer is not None:
        label = incident_state_label(state=newer.incident_state, kind=delivery.incident.kind).lower()
        return _delivery_cancel(delivery, now=now, reason=f"not sent: superseded by the {label} alert")
    quiet_until = _in_quiet_hours(rule, now)
    if quiet_until is not None:
        # The rule's quiet hours (perhaps added since it was queued, or reached by a retry).
        AlertDelivery.objects.filter(pk=delivery.pk, status=delivery.status).update(
            status=DeliveryStatus.HELD, next_attempt_at=quiet_until
        )
        delivery.refresh_from_db()
        return delivery
    claimed = AlertDelivery.objects.filter(
        pk=delivery.pk,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
    ).update(status=DeliveryStatus.PENDING, attempts=delivery.attempts + 1, next_attempt_at=now + CLAIM)
    if not claimed:
        delivery.refresh_from_db()
        return delivery  # another worker took it
    delivery.status, delivery.attempts = DeliveryStatus.PENDING, delivery.attempts + 1
    failure: alerts.DeliveryError | None = None
    try:
        status = alerts.send(delivery)
    except alerts.DeliveryError as exc:
        failure = exc
    except Exception as exc:  # a surprise from a channel's library must not strand the delivery
        # Left as it was, the delivery would stay claimed and silent: retried every 5 minutes for ever, with
        # nothing in its log. Recorded and retried like any failure, and given up after MAX_ATTEMPTS.
        logger.exception("alert delivery %s failed unexpectedly", delivery_id)
        failure = alerts.DeliveryError(f"{type(exc).__name__}: {exc}")
    if failure is not None:
        delivery.last_error = str(failure)[:2000]
        delivery.response_status = failure.status
        entry: dict[str, Any] = {"at": now.isoformat(), "outcome": "error", "detail": str(failure)[:500]}
        entry["status"] = failure.status
        if failure.permanent or delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            entry["detail"] += (
                " — not retried: the target refuses this alert (was the webhook deleted?)"
                if failure.permanent
                else f" — gave up after {delivery.attempts} attempts"
            )
        else:
            wait = BACKOFF_SECONDS * 2 ** (delivery.attempts - 1)
            if failure.retry_after is not None:
                wait = max(wait, min(failure.retry_after, RETRY_AFTER_MAX_SECONDS))
            delivery.next_attempt_at = now + timedelta(seconds=wait)
            entry["retry_at"] = delivery.next_attempt_at.isoformat()
        delivery.add_log(**entry)
        delivery.save()
        if delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None:
            retry_at = delivery.next_attempt_at
            transaction.on_commit(lambda: _enqueue_delivery(delivery_id, run_after=retry_at))
        return delivery
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = now
    delivery.response_status = status
    delivery.next_attempt_at = None
    delivery.last_error = ""
    delivery.add_log(at=now.isoformat(), outcome="sent", status=status)
    delivery.save()
    return delivery


def alerts_deliver_due(*, now: datetime | None = None) -> int:
    """The periodic sweep: send deliveries whose quiet hours or back-off are over, oldest first. Returns
    attempts made."""
    now = now or timezone.now()
    due = (
        AlertDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.HELD], next_attempt_at__lte=now
        )
        .order_by("pk")
        .values_list("pk", "attempts")
    )
    count = 0
    for pk, attempts in list(due):
        delivery = alert_deliver(delivery_id=pk, now=now)
        count += delivery is not None and delivery.attempts > attempts
    return count


def term_calendar_set(*, periods: Iterable[Period]) -> int:
    """Replace the stored calendar (one transaction). Returns the number of periods stored."""
    from servicepulse.incidents.models import TermPeriod

    rows = [TermPeriod(start=p.start, end=p.end, kind=p.kind) for p in periods]
    if any(p.start.tzinfo is None or p.end.tzinfo is None or p.end <= p.start for p in rows):
        raise ValueError("each period needs aware start < end")
    with transaction.atomic():
        TermPeriod.objects.all().delete()
        TermPeriod.objects.bulk_create(rows)
    return len(rows)
