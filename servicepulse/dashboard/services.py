"""Writing the dashboard's rollup (`ServiceDay`) from the analysis app's service tags."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Max, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from servicepulse.analysis.models import PRIMARY_RANK, ServiceTag
from servicepulse.catalog.models import Service
from servicepulse.dashboard.models import RollupState, ServiceDay

HISTORY_DAYS = 120  # how far back a first catch-up goes
LIVE_DAYS = 1  # today is always counted live; finished days come from the rollup
RECOUNT_DAYS = 2  # the periodic task recounts the last finished days too, for posts analysed late


@dataclass
class DayCounts:
    posts: int = 0
    complaints: int = 0
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    spam: int = 0

    def add(self, other: DayCounts) -> None:
        for name in ("posts", "complaints", "positive", "negative", "neutral", "spam"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def local_day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def count_days(
    *, start: date, end: date, service_ids: Iterable[str] | None = None
) -> dict[tuple[str, date], DayCounts]:
    """Counts per (service, local day) for days in [start, end], straight from the service tags, as the weekly
    report counts them: posts and sentiment once per post, for the service it is most about (the score);
    complaints for every service a complaint names (the volume detection watches)."""
    tz = timezone.get_current_timezone()
    qs = ServiceTag.objects.filter(
        created_at__gte=local_day_start(start), created_at__lt=local_day_start(end + timedelta(days=1))
    )
    # Always name the services: the tags' index is (service, created_at), so a time range alone scans them all.
    ids = list(service_ids) if service_ids is not None else list(Service.objects.values_list("id", flat=True))
    qs = qs.filter(service_id__in=ids)
    rows = (
        qs.annotate(local_day=TruncDate("created_at", tzinfo=tz))
        .values("service_id", "local_day")
        .annotate(
            posts=Count("id", filter=Q(spam=False, rank=PRIMARY_RANK)),
            complaints=Count("id", filter=Q(spam=False, complaint=True)),
            positive=Count("id", filter=Q(spam=False, rank=PRIMARY_RANK, sentiment="positive")),
            negative=Count("id", filter=Q(spam=False, rank=PRIMARY_RANK, sentiment="negative")),
            neutral=Count("id", filter=Q(spam=False, rank=PRIMARY_RANK, sentiment="neutral")),
            spam_n=Count("id", filter=Q(spam=True, rank=PRIMARY_RANK)),
        )
        .order_by()
    )
    return {
        (row["service_id"], row["local_day"]): DayCounts(
            posts=row["posts"],
            complaints=row["complaints"],
            positive=row["positive"],
            negative=row["negative"],
            neutral=row["neutral"],
            spam=row["spam_n"],
        )
        for row in rows
    }


@transaction.atomic
def rollup_refresh(*, start: date, end: date) -> int:
    """Recount the days [start, end] for every service and replace their rollup rows. Returns rows written."""
    counts = count_days(start=start, end=end)
    ServiceDay.objects.filter(day__gte=start, day__lte=end).delete()
    rows = [
        ServiceDay(
            service_id=sid,
            day=day,
            posts=c.posts,
            complaints=c.complaints,
            positive=c.positive,
            negative=c.negative,
            neutral=c.neutral,
            spam=c.spam,
        )
        for (sid, day), c in counts.items()
    ]
    ServiceDay.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def rollup_catch_up(*, today: date | None = None, recount_days: int = 0) -> int:
    """Make the rollup complete up to yesterday, and recount the finished days of the posts tagged since the
    last call (analysed late: a file of last month's posts imported today, a source's backfill), which would
    otherwise show as nothing until the nightly rebuild; when nothing is new, one query. `recount_days`
    also recounts that many finished days before yesterday (the periodic task). A tag whose transaction
    commits after a later one was seen is left to the nightly rebuild."""
    today = today or timezone.localdate()
    wanted = today - timedelta(days=LIVE_DAYS)
    # The newest tag is read with the state: on every page read, one query when nothing is new.
    newest_tag = ServiceTag.objects.order_by("-id").values("id")[:1]
    state = RollupState.objects.annotate(newest=Subquery(newest_tag)).first()
    newest = (
        state.newest if state is not None else ServiceTag.objects.aggregate(newest=Max("id"))["newest"]
    ) or 0
    done = state.complete_until if state is not None else None
    seen = state.tags_seen_until if state is not None else None
    written = 0
    if done is not None and seen is not None and newest > seen:
        late = _days_tagged(after=seen, upto=newest, first=today - timedelta(days=HISTORY_DAYS), last=done)
        if late:
            written += rollup_refresh(start=late[0], end=late[-1])
    if state is not None and done is not None and done >= wanted and recount_days <= 0:
        if newest != seen:
            RollupState.objects.filter(pk=state.pk).update(tags_seen_until=newest)
        return written
    start = done + timedelta(days=1) if done is not None else today - timedelta(days=HISTORY_DAYS)
    if recount_days > 0:
        start = min(start, wanted - timedelta(days=recount_days - 1))
    written += rollup_refresh(start=start, end=wanted)
    RollupState.objects.update_or_create(pk=1, defaults={"complete_until": wanted, "tags_seen_until": newest})
    return written


def _days_tagged(*, after: int, upto: int, first: date, last: date) -> list[date]:
    """The local days in [first, last] of the service tags with an id in (after, upto], oldest first."""
    tz = timezone.get_current_timezone()
    days = (
        ServiceTag.objects.filter(
            id__gt=after,
            id__lte=upto,
            created_at__gte=local_day_start(first),
            created_at__lt=local_day_start(last + timedelta(days=1)),
        )
        .annotate(local_day=TruncDate("created_at", tzinfo=tz))
        .order_by()
        .values_list("local_day", flat=True)
        .distinct()
    )
    return sorted(days)


def rollup_refresh_for(*, moments: Iterable[datetime]) -> int:
    """Recount the finished days holding `moments` (e.g. after labels were corrected)."""
    wanted = timezone.localdate() - timedelta(days=LIVE_DAYS)
    days = sorted({timezone.localtime(m).date() for m in moments})
    days = [d for d in days if d <= wanted]
    return sum(rollup_refresh(start=d, end=d) for d in days)


def rollup_rebuild() -> int:
    """Recount the whole history window (nightly, and after bulk imports or retraining)."""
    RollupState.objects.all().delete()
    return rollup_catch_up()
