"""Reads for the inbox, response times and the closed loop."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from servicepulse.analysis.selectors import mentions_for_service, wants_response_q
from servicepulse.catalog.models import Service
from servicepulse.engage.models import Case, CaseState, LoopReply, OptOut, Reply, ReplyOutcome, SavedReply
from servicepulse.incidents.models import Incident
from servicepulse.incidents.selectors import attached_relabelled_away, detected_incident_mention_ids
from servicepulse.mentions.models import Mention
from servicepulse.publish.networks import count_graphemes, count_x_weighted
from servicepulse.sources.models import Source
from servicepulse.sources.registry import ConnectorError, connector_for
from servicepulse.status.models import PublicIncident

# Replies per period per source kind, from each platform's documented limits for posting as one account,
# kept a little under them. Anything unlisted gets DEFAULT_REPLY_RATE.
REPLY_RATES: dict[str, tuple[int, timedelta]] = {
    "mastodon": (300, timedelta(hours=3)),  # Mastodon: 300 statuses per 3 hours per account
    "bluesky": (1500, timedelta(hours=1)),  # Bluesky PDS: 5,000 points/hour, a create costs 3
    "x": (100, timedelta(minutes=15)),  # X API v2 POST /2/tweets: 100 per 15 minutes per user
    "reddit": (90, timedelta(minutes=1)),  # Reddit OAuth: 100 queries per minute per client
    "slack": (50, timedelta(minutes=1)),  # Slack chat.postMessage: about one per second per channel
    "facebook": (180, timedelta(hours=1)),  # Graph API: 200 calls per hour per user
    "discourse": (50, timedelta(minutes=1)),  # Discourse: 60 API requests per minute
}
DEFAULT_REPLY_RATE = (30, timedelta(minutes=1))


def reply_rate(kind: str) -> tuple[int, timedelta]:
    """(replies, period) for a source kind; the optional setting SERVICEPULSE_REPLY_RATES
    ({"mastodon": [300, 10800], ...}, seconds) overrides the table for stricter instance rules."""
    override = getattr(settings, "SERVICEPULSE_REPLY_RATES", {}).get(kind)
    if override:
        return int(override[0]), timedelta(seconds=float(override[1]))
    return REPLY_RATES.get(kind, DEFAULT_REPLY_RATE)


# Reply length per platform (characters), so a reply is refused here rather than by the network.
REPLY_MAX_LENGTH: dict[str, int] = {"mastodon": 500, "bluesky": 300, "x": 280, "slack": 4000, "reddit": 10000}


def inbox_items(
    *,
    state: str | None = None,
    assignee_id: int | None = None,
    team: str | None = None,
    service_id: str | None = None,
    source_id: int | None = None,
) -> QuerySet[Mention]:
    """Mentions that want a response (complaints and questions, not spam), and every mention someone has
    opened a case on, newest first, each annotated with `case_state` ("new" until someone acts on it).

    A case stays listed whatever the analysis says later: a post assigned while it was still unanalysed,
    or one a person reclassified, must not vanish from the inbox with its assignee and history."""
    qs = (
        Mention.objects.filter(wants_response_q() | Q(case__isnull=False))
        .select_related("source", "case", "case__assignee", "case__service")
        .annotate(case_state=Coalesce("case__state", Value(CaseState.NEW.value)))
        .order_by("-created_at", "-id")
    )
    if state:
        qs = qs.filter(case_state=state)
    if assignee_id is not None:
        qs = qs.filter(case__assignee_id=assignee_id)
    if team:
        qs = qs.filter(case__team=team)
    if service_id:
        tagged = mentions_for_service(service_id=service_id).values("pk")
        qs = qs.filter(Q(case__service_id=service_id) | (Q(case__isnull=True) & Q(pk__in=tagged)))
    if source_id is not None:
        qs = qs.filter(source_id=source_id)
    return qs


def inbox_counts(
    *, assignee_id: int | None = None, team: str | None = None, service_id: str | None = None
) -> dict[str, int]:
    """How many items are in each state (for the inbox tabs), under the same filters as the list, so a
    tab's number is what clicking it shows."""
    counts = {s.value: 0 for s in CaseState}
    items = inbox_items(assignee_id=assignee_id, team=team, service_id=service_id)
    # Counted by the database, grouped by the annotated state (a year of posts is some hundred thousand rows).
    by_state = items.order_by().values("case_state")  # type: ignore[misc]  # an annotation
    rows = by_state.annotate(n=Count("pk")).values_list("case_state", "n")
    for state, n in rows:
        counts[state] = counts.get(state, 0) + n
    return counts


def case_get(*, mention_id: int) -> Case | None:
    return (
        Case.objects.select_related("mention__source", "assignee", "service", "public_incident")
        .filter(mention_id=mention_id)
        .first()
    )


def thread_mentions(*, mention: Mention) -> QuerySet[Mention]:
    """The other posts of the same conversation on the same source, oldest first."""
    root = mention.thread_id or mention.external_id
    keys = {root, mention.in_reply_to} - {""}
    return (
        Mention.objects.filter(source_id=mention.source_id)
        .filter(Q(thread_id=root) | Q(external_id__in=keys) | Q(in_reply_to=mention.external_id))
        .exclude(pk=mention.pk)
        .order_by("created_at", "id")
    )


def saved_reply_list() -> QuerySet[SavedReply]:
    return SavedReply.objects.all()


def team_choices() -> list[str]:
    return sorted({t for t in Service.objects.exclude(team="").values_list("team", flat=True)})


def person_key(mention: Mention) -> str:
    return mention.author_key


def is_opted_out(*, mention: Mention) -> bool:
    keys = {k for k in (mention.author_id, mention.author) if k}
    return OptOut.objects.filter(source_id=mention.source_id, author_key__in=keys).exists()


def reply_unavailable(*, source: Source) -> str:
    """Why a reply cannot be posted on this source ("" when it can): see `Connector.reply_unavailable`."""
    try:
        return connector_for(source).reply_unavailable()
    except ConnectorError:
        return f"{source.get_kind_display()} sources are not available in this installation"


def reply_length(*, kind: str, text: str) -> int:
    """`text`'s length as the platform counts it against its limit, with the cross-posting counters: graphemes
    on Bluesky and Mastodon, X's weighted characters (CJK and emoji count 2), and links as 23 on Mastodon and
    X."""
    if kind == "x":
        return count_x_weighted(text, link_length=23)
    if kind in ("mastodon", "bluesky"):
        return count_graphemes(text, link_length=23 if kind == "mastodon" else None)
    return len(text)


def reply_limit(*, source: Source) -> str:
    """The channel's length limit as a sentence for the reply form ("" when it has none worth saying)."""
    limit = REPLY_MAX_LENGTH.get(source.kind)
    if limit is None:
        return ""
    how = {
        "x": " (a link counts 23; Chinese, Japanese, Korean characters and emoji count 2)",
        "mastodon": " (a link counts 23, and the person's @handle is added)",
    }.get(source.kind, "")
    return f"{source.get_kind_display()} allows {limit} characters{how}."


def reply_too_long(*, mention: Mention, text: str) -> str:
    """An error sentence when `text` is over the platform's limit, else "". Lengths are counted as the
    platform counts them (`reply_length`), and Mastodon replies carry the "@account " prefix."""
    kind = mention.source.kind
    limit = REPLY_MAX_LENGTH.get(kind)
    if limit is None:
        return ""
    length = reply_length(kind=kind, text=text)
    if kind == "mastodon":
        acct = str(((mention.raw or {}).get("account") or {}).get("acct") or mention.author or "")
        if acct and f"@{acct}" not in text:
            length += len(acct) + 2
    if length > limit:
        return f"{length} characters: {mention.source.get_kind_display()} allows {limit}"
    return ""


def last_answer_id(*, case: Case | None) -> int:
    """The id of the case's latest answer (sent or recorded), 0 when it has none: what a responder has seen
    when they start writing (see `services.case_reply`)."""
    if case is None:
        return 0
    latest = (
        Reply.objects.filter(case=case, outcome__in=(ReplyOutcome.SENT, ReplyOutcome.RECORDED))
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return latest or 0


def reply_rate_wait(*, source: Source, now: datetime) -> timedelta:
    """How long to wait before replying on `source` again without passing the platform's limit."""
    limit, period = reply_rate(source.kind)
    since = now - period
    times: list[datetime] = sorted(
        t
        for t in [
            *LoopReply.objects.filter(
                mention__source=source, outcome=ReplyOutcome.SENT, sent_at__gt=since
            ).values_list("sent_at", flat=True),
            *Reply.objects.filter(
                case__mention__source=source, outcome=ReplyOutcome.SENT, created_at__gt=since
            ).values_list("created_at", flat=True),
        ]
        if t is not None
    )
    if len(times) < limit:
        return timedelta(0)
    return max(timedelta(0), times[len(times) - limit] + period - now)


# --- response times --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseTimes:
    service_id: str | None
    service_name: str
    cases: int
    responded: int
    resolved: int
    first_response_median: timedelta | None
    resolution_median: timedelta | None

    def as_dict(self) -> dict[str, Any]:
        def seconds(value: timedelta | None) -> float | None:
            return None if value is None else value.total_seconds()

        return {
            "service_id": self.service_id,
            "service": self.service_name,
            "cases": self.cases,
            "responded": self.responded,
            "resolved": self.resolved,
            "first_response_median_seconds": seconds(self.first_response_median),
            "resolution_median_seconds": seconds(self.resolution_median),
        }


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def response_times(*, since: datetime, until: datetime) -> dict[str | None, ResponseTimes]:
    """Per service (None for cases with no service), for cases whose post arrived in [since, until):
    median time from the post to the first reply, and from the post to closing the case."""
    per: dict[str | None, list[Case]] = {}
    qs = Case.objects.filter(opened_at__gte=since, opened_at__lt=until).select_related("service")
    for case in qs:
        per.setdefault(case.service_id, []).append(case)
    result: dict[str | None, ResponseTimes] = {}
    for service_id, cases in sorted(per.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        first = [c.first_response_at - c.opened_at for c in cases if c.first_response_at]
        resolution = [c.closed_at - c.opened_at for c in cases if c.closed_at]
        name = cases[0].service.name if cases[0].service else "No service"
        result[service_id] = ResponseTimes(
            service_id=service_id,
            service_name=name,
            cases=len(cases),
            responded=len(first),
            resolved=len(resolution),
            first_response_median=_median(first),
            resolution_median=_median(resolution),
        )
    return result


def untouched_between(*, since: datetime, until: datetime) -> int:
    """Posts that want a response, arrived in [since, until) and that nobody has acted on (no case yet):
    the response times leave them out, since they have no first response to measure."""
    return (
        Mention.objects.filter(
            wants_response_q(), case__isnull=True, created_at__gte=since, created_at__lt=until
        )
        .order_by()
        .count()
    )


def answered_between(*, since: datetime, until: datetime) -> tuple[int, timedelta | None]:
    """How many cases opened in [since, until) got a reply, and the median time to the first one."""
    firsts = [
        c.first_response_at - c.opened_at
        for c in Case.objects.filter(
            opened_at__gte=since, opened_at__lt=until, first_response_at__isnull=False
        ).only("opened_at", "first_response_at")
        if c.first_response_at is not None
    ]
    return len(firsts), _median(firsts)


# --- closed loop -----------------------------------------------------------------------------------


def loop_mentions(*, incident: PublicIncident) -> list[Mention]:
    """The complaints attached to a public incident: those the detected incident gathered, less the posts an
    analyst has since relabelled away from it (spam, not a complaint, another service: detection no longer
    counts them, and a "thanks for telling us" would answer spam), plus inbox cases a responder linked to it
    (a deliberate choice, kept whatever the labels say)."""
    ids: set[int] = set(incident.cases.values_list("mention_id", flat=True))
    detected = (
        Incident.objects.filter(pk=incident.detected_incident_id).first()
        if incident.detected_incident_id is not None
        else None
    )
    if detected is not None:
        relabelled = set(attached_relabelled_away(incident=detected).values_list("pk", flat=True))
        ids |= set(detected_incident_mention_ids(incident_id=detected.pk)) - relabelled
    return list(Mention.objects.filter(pk__in=ids).select_related("source").order_by("created_at", "id"))


def loop_log(*, incident: PublicIncident) -> QuerySet[LoopReply]:
    return incident.loop_replies.select_related("mention__source", "created_by").order_by(
        "incident_status", "id"
    )


def optouts_for_author(
    *, author: str, mention_ids: Sequence[int], source_id: int | None = None
) -> list[OptOut]:
    """A person's reply opt-outs: those keyed by `author` (a platform id or name) or by the platform id or
    name on their posts `mention_ids`, on the posts' sources (any source for `author` itself)."""
    wanted = Q(author_key=author)
    for mention_source, author_id, name in Mention.objects.filter(pk__in=list(mention_ids)).values_list(
        "source_id", "author_id", "author"
    ):
        keys = {key for key in (author_id, name) if key}
        wanted |= Q(source_id=mention_source, author_key__in=keys)
    optouts = OptOut.objects.filter(wanted).select_related("source").order_by("created_at", "pk")
    return list(optouts if source_id is None else optouts.filter(source_id=source_id))
