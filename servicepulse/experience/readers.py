"""The one place where experience reads other apps: the analysis (sentiment, spam, complaint, service tags),
incidents and the inbox's response times. Everything else in experience works on the plain values these
return, so the score and report code does not depend on how those apps store things.

The inbox is optional (an organisation may not use engage): without it `response_times` answers None and
the report leaves that section out.
"""

from __future__ import annotations

import bisect
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q

from servicepulse.experience.themes import ThemePost


def _module(dotted: str) -> ModuleType | None:
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name and dotted.startswith(exc.name):
            return None
        raise


def _function(dotted: str, name: str) -> Callable[..., Any] | None:
    module = _module(dotted)
    return getattr(module, name, None) if module is not None else None


# --- analysis ----------------------------------------------------------------------------------------------
# The analysis app's ServiceTag repeats each mention's time, complaint, sentiment and spam per service it is
# tagged with, so per-service counts are one grouped scan of one index. For the score each post counts once,
# for the service it is most about (analysis.models.PRIMARY_RANK, its first tag).


def analysis_ready() -> bool:
    """True when the analysis app stores results (its models exist) and has analysed at least one post."""
    from servicepulse.analysis.models import MentionAnalysis

    return MentionAnalysis.objects.exists()


@dataclass(frozen=True)
class Counts:
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    complaints: int = 0
    spam: int = 0


def score_counts(
    *, start: datetime, end: datetime, service_ids: list[str] | None = None
) -> dict[str, Counts]:
    """Per service: non-spam mentions in [start, end) by sentiment (each post for its main service: the
    score) and complaints (for every service a complaint names, as detection counts them); spam apart."""
    from servicepulse.analysis.models import PRIMARY_RANK, Sentiment, ServiceTag

    qs = ServiceTag.objects.filter(created_at__gte=start, created_at__lt=end)
    if service_ids is not None:
        qs = qs.filter(service_id__in=service_ids)
    ham = Q(spam=False, rank=PRIMARY_RANK)
    rows = (
        qs.order_by()
        .values("service_id")
        .annotate(
            positive=Count("id", filter=ham & Q(sentiment=Sentiment.POSITIVE)),
            negative=Count("id", filter=ham & Q(sentiment=Sentiment.NEGATIVE)),
            neutral=Count("id", filter=ham & ~Q(sentiment__in=[Sentiment.POSITIVE, Sentiment.NEGATIVE])),
            complaints=Count("id", filter=Q(spam=False, complaint=True)),
            spam=Count("id", filter=Q(spam=True, rank=PRIMARY_RANK)),
        )
    )
    return {
        row["service_id"]: Counts(
            positive=row["positive"],
            negative=row["negative"],
            neutral=row["neutral"],
            complaints=row["complaints"],
            spam=row["spam"],
        )
        for row in rows
    }


def other_languages(*, start: datetime, end: datetime) -> list[tuple[str, int]]:
    """The posts `score_counts` counts in [start, end) (non-spam, each once for its main service) that were
    read in a language other than English, as (language name, posts), most first: their complaint and
    sentiment are the English models' reading (MODELS.md, "Posts in other languages")."""
    from servicepulse.analysis.models import PRIMARY_RANK, ServiceTag
    from servicepulse.analysis.selectors import MODEL_LANGUAGES, language_name, language_primary

    rows = (
        ServiceTag.objects.filter(created_at__gte=start, created_at__lt=end, spam=False, rank=PRIMARY_RANK)
        .order_by()
        .values_list("analysis__language")
        .annotate(n=Count("id"))
    )
    counts: dict[str, int] = {}
    for language, n in rows:
        code = language_primary(language or "")
        if code not in MODEL_LANGUAGES:
            name = language_name(code) or code
            counts[name] = counts.get(name, 0) + n
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def spam_count(*, start: datetime, end: datetime) -> int:
    """Posts in [start, end) the analysis took for spam (they rarely name a service, so count them all)."""
    from servicepulse.analysis.models import MentionAnalysis

    return MentionAnalysis.objects.filter(created_at__gte=start, created_at__lt=end, spam=True).count()


def complaint_posts(
    *, start: datetime, end: datetime, service_ids: list[str] | None = None, limit: int = 2000
) -> dict[str, list[ThemePost]]:
    """Per service: the non-spam complaints in [start, end), newest first (at most `limit` in all)."""
    from servicepulse.analysis.models import PRIMARY_RANK, ServiceTag

    qs = ServiceTag.objects.filter(
        created_at__gte=start, created_at__lt=end, complaint=True, spam=False, rank=PRIMARY_RANK
    )
    if service_ids is not None:
        qs = qs.filter(service_id__in=service_ids)
    out: dict[str, list[ThemePost]] = {}
    m = "analysis__mention__"
    rows = qs.order_by("-created_at", "-analysis_id").values_list(
        "service_id", f"{m}id", f"{m}text", f"{m}author", f"{m}source__name", f"{m}created_at", f"{m}url"
    )
    for service_id, mention_id, text, author, source, created_at, url in rows[:limit]:
        out.setdefault(service_id, []).append(
            ThemePost(
                mention_id=mention_id, text=text, author=author, source=source, created_at=created_at, url=url
            )
        )
    return out


def complaint_texts(*, start: datetime, end: datetime, limit: int = 3000) -> list[str]:
    """Texts of non-spam complaints about any service in [start, end): the background for themes."""
    from servicepulse.analysis.models import MentionAnalysis

    qs = MentionAnalysis.objects.filter(created_at__gte=start, created_at__lt=end, complaint=True, spam=False)
    return list(qs.order_by("-created_at").values_list("mention__text", flat=True)[:limit])


def daily_counts(*, days: list[datetime]) -> tuple[list[int], list[int]]:
    """Non-spam posts about at least one service per day (days[i] <= t < days[i+1]): complaints, others.
    Each post once, however many services it names: the posts `score_counts` counts for their main service."""
    from servicepulse.analysis.models import MentionAnalysis, ServiceTag

    complaints, others = [0] * (len(days) - 1), [0] * (len(days) - 1)
    if len(days) < 2:
        return complaints, others
    # EXISTS, not a join with DISTINCT: DISTINCT over the selected (time, complaint) pairs merged the posts
    # that share a time (an export at minute resolution), so the bars came out short of the headline.
    qs = MentionAnalysis.objects.filter(
        Exists(ServiceTag.objects.filter(analysis=OuterRef("pk"))),
        created_at__gte=days[0],
        created_at__lt=days[-1],
        spam=False,
    ).values_list("created_at", "complaint")
    for created_at, complaint in qs:
        i = bisect.bisect_right(days, created_at) - 1
        if 0 <= i < len(complaints):
            if complaint:
                complaints[i] += 1
            else:
                others[i] += 1
    return complaints, others


# --- incidents ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentFacts:
    id: Any
    title: str
    service_id: str
    started_at: datetime | None  # when the chatter began (the detector's onset)
    detected_at: datetime | None  # when servicepulse raised it
    resolved_at: datetime | None
    state: str
    affected_authors: int
    url: str = ""
    confirmed: bool = True  # False: a possible problem that never confirmed

    @property
    def time_to_detect(self) -> timedelta | None:
        if self.started_at is None or self.detected_at is None:
            return None
        return max(self.detected_at - self.started_at, timedelta(0))


def incidents_between(*, start: datetime, end: datetime) -> list[IncidentFacts] | None:
    """Detected and manual incidents (not maintenance) open at some time in [start, end), oldest first.
    `detected_at` is when servicepulse first raised it (its first activity: possible or confirmed)."""
    from django.urls import NoReverseMatch, reverse

    from servicepulse.incidents.models import Incident, IncidentKind

    qs = (
        Incident.objects.filter(started_at__lt=end)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=start))
        .exclude(kind=IncidentKind.MAINTENANCE)
        .annotate(raised_at=Min("activities__at"))
        .order_by("started_at", "id")
    )
    facts = []
    for incident in qs:
        try:
            url = reverse("dashboard:incident", args=[incident.pk])
        except NoReverseMatch:
            url = ""
        facts.append(
            IncidentFacts(
                id=incident.pk,
                title=incident.title,
                service_id=incident.service_id,
                started_at=incident.started_at,
                detected_at=incident.raised_at or incident.created_at,  # type: ignore[attr-defined]
                resolved_at=incident.resolved_at,
                state=incident.state_label,
                affected_authors=incident.affected_authors,
                url=url,
                confirmed=incident.confirmed_at is not None or incident.kind == IncidentKind.MANUAL,
            )
        )
    return facts


# --- inbox -------------------------------------------------------------------------------------------------


def response_times(*, start: datetime, end: datetime) -> list[Any] | None:
    """The inbox's response times per service for cases opened in [start, end), or None without an inbox."""
    fn = _function("servicepulse.engage.selectors", "response_times")
    if fn is None:
        return None
    return list(fn(since=start, until=end).values())


def inbox_untouched(*, start: datetime, end: datetime) -> int:
    """Posts of [start, end) that want a response and nobody acted on: the response times leave them out."""
    fn = _function("servicepulse.engage.selectors", "untouched_between")
    return 0 if fn is None else int(fn(since=start, until=end))
