"""“You said, we did”: a weekly draft blog post from the week's top complaint themes and what was done.

The text is built from data only (no model writes prose): complaint themes are the services people
complained about most, with the words they used most and one short, anonymised quote; "we did" lists the
public incidents resolved, other incidents resolved, finished maintenance and how fast the inbox answered.
The leader edits the draft before publishing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from servicepulse.analysis.selectors import analysed_posts
from servicepulse.catalog.models import Service
from servicepulse.core.words import NOT_WORDS, content_words, words
from servicepulse.engage.selectors import answered_between
from servicepulse.incidents.selectors import DetectedIncident, detected_resolved_between
from servicepulse.status.models import IncidentStatus, Maintenance, PublicIncident
from servicepulse.status.selectors import status_url

THEMES = 5


@dataclass
class Theme:
    service_id: str | None
    service_name: str
    posts: int
    people: int
    terms: list[str] = field(default_factory=list)
    quote: str = ""


@dataclass
class WeekDigest:
    since: datetime
    until: datetime
    themes: list[Theme]
    public_resolved: list[PublicIncident]
    detected_resolved: list[DetectedIncident]
    maintenance_done: list[Maintenance]
    answered: int
    first_response_median: timedelta | None


def _quote(items: list[Complaint], terms: list[str]) -> str:
    """A short post that uses the theme's words, with handles, links and addresses removed: a negative one
    (a post the complaint head took for a complaint may be praise, "the desk sorted mine in 5 mins", which
    would read oddly under "you told us about problems"), else a neutral one, never a positive one."""
    pool = [c for c in items if c.sentiment < 0] or [c for c in items if c.sentiment <= 0]
    texts = [c.text for c in pool]
    candidates = [(NOT_WORDS.sub("…", t).strip(), t) for t in texts]
    candidates = [(c, t) for c, t in candidates if 25 <= len(c) <= 180]
    if not candidates:
        return ""
    best = max(candidates, key=lambda ct: (sum(term in ct[0].lower() for term in terms), -len(ct[0])))
    return best[0].replace("\n", " ")


def _terms(texts: list[str], *, exclude: set[str], limit: int = 3) -> list[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(content_words(text)) - exclude)  # any script (core.words)
    return [w for w, n in counts.most_common(limit) if n >= 2]


@dataclass(frozen=True)
class Complaint:
    mention_id: int
    text: str
    author_key: str
    service_ids: tuple[str, ...]
    sentiment: float = 0.0  # -1 negative, 0 neutral, 1 positive


def complaints_between(*, since: datetime, until: datetime) -> list[Complaint]:
    """Complaints (not spam) posted in [since, until), with their services best first."""
    return [
        Complaint(
            mention_id=post.mention_id,
            text=post.text,
            author_key=post.author_key,
            service_ids=post.service_ids,
            sentiment=post.sentiment,
        )
        for post in analysed_posts(since=since, until=until)
        if post.complaint
    ]


def week_digest(
    *, until: datetime | None = None, days: int = 7, complaints: list[Complaint] | None = None
) -> WeekDigest:
    """What people said and what was done in the `days` before `until` (default: now). `complaints` defaults
    to the analysis app's complaints of the period (pass them to draft from another source)."""
    until = until or timezone.now()
    since = until - timedelta(days=days)
    if complaints is None:
        complaints = complaints_between(since=since, until=until)
    # The post is public: services kept off the status page are not named in it.
    names = dict(Service.objects.filter(public=True).values_list("id", "name"))
    aliases = {s.id: {a.lower() for a in s.aliases} for s in Service.objects.all()}
    grouped: dict[str | None, list[Complaint]] = {}
    for complaint in complaints:
        service_id = complaint.service_ids[0] if complaint.service_ids else None
        grouped.setdefault(service_id, []).append(complaint)
    themes = []
    for service_id, items in grouped.items():
        if service_id is None or service_id not in names:
            continue  # posts about no known (or no public) service make no theme
        name = names[service_id]
        exclude = set(words(name)) | aliases.get(service_id, set()) | {service_id}
        terms = _terms([c.text for c in items], exclude=exclude)
        themes.append(
            Theme(
                service_id=service_id,
                service_name=name,
                posts=len(items),
                people=len({c.author_key for c in items}),
                terms=terms,
                quote=_quote(items, terms),
            )
        )
    themes.sort(key=lambda t: (-t.people, -t.posts, t.service_name))
    public_resolved = list(
        PublicIncident.objects.filter(
            status=IncidentStatus.RESOLVED, resolved_at__gte=since, resolved_at__lt=until
        )
        .prefetch_related("services", "updates")
        .order_by("resolved_at")
    )
    published = {p.detected_incident_id for p in PublicIncident.objects.exclude(detected_incident_id=None)}
    # A rise that faded before anyone confirmed it was never an outage: "it is fixed" would claim a fix.
    detected = [
        d
        for d in detected_resolved_between(since=since, until=until)
        if d.id not in published and d.confirmed and d.service_public
    ]
    maintenance = list(
        Maintenance.objects.filter(cancelled_at__isnull=True, ends_at__gte=since, ends_at__lt=until)
        .prefetch_related("services")
        .order_by("ends_at")
    )
    answered, median = answered_between(since=since, until=until)
    return WeekDigest(
        since=since,
        until=until,
        themes=themes[:THEMES],
        public_resolved=public_resolved,
        detected_resolved=detected,
        maintenance_done=maintenance,
        answered=answered,
        first_response_median=median,
    )


def _duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    if minutes < 90:
        return f"{minutes} minutes"
    hours = round(minutes / 60)
    return f"{hours} hours" if hours < 48 else f"{round(hours / 24)} days"


def _day(value: datetime) -> str:
    local = timezone.localtime(value)
    return f"{local:%A} {local.day} {local:%B}"


def draft_title(digest: WeekDigest) -> str:
    start = timezone.localtime(digest.since)
    return f"You said, we did: the week of {start.day} {start:%B %Y}"


def draft_markdown(digest: WeekDigest) -> str:
    """The draft post in Markdown."""
    lines = [
        "Every week we read what you tell us about our IT services, on social media, on this blog and "
        "through the report-a-problem button. Here is what we heard this week, and what we did about it.",
        "",
        "## You said",
        "",
    ]
    if digest.themes:
        for theme in digest.themes:
            people = "one of you" if theme.people == 1 else f"{theme.people} of you"
            line = f"- **{theme.service_name}**: {people} told us about problems"
            if theme.terms:
                line += ", mostly about " + ", ".join(f"“{t}”" for t in theme.terms)
            line += "."
            if theme.quote:
                line += f" One of you wrote: “{theme.quote}”"
            lines.append(line)
    else:
        lines.append(
            "- We heard very few complaints this week. Thank you for your patience, and keep telling us."
        )
    lines += ["", "## We did", ""]
    did = False
    for incident in digest.public_resolved:
        services = ", ".join(s.name for s in incident.services.all())
        last = next(iter(incident.updates.all()), None)
        assert incident.resolved_at is not None
        line = f"- **{incident.title}** ({services}): resolved on {_day(incident.resolved_at)}."
        if last is not None and last.body:
            line += f" {last.body.strip()}"
        line += f" [The full timeline]({status_url(incident=incident)})."
        lines.append(line)
        did = True
    for detected in digest.detected_resolved:
        reporters = detected.affected_authors
        who = "you" if not reporters else "one of you" if reporters == 1 else f"{reporters} of you"
        lines.append(
            f"- **{detected.service_name}**: the problem {who} reported from "
            f"{_day(detected.started_at)} is fixed."
        )
        did = True
    for window in digest.maintenance_done:
        services = ", ".join(s.name for s in window.services.all() if s.public)
        if not services:
            continue  # work on services kept off the status page
        lines.append(
            f"- Planned maintenance on {services} ({window.title}) finished on {_day(window.ends_at)}."
        )
        did = True
    if digest.answered:
        line = f"- We answered {digest.answered} of your posts directly"
        if digest.first_response_median is not None:
            line += f", typically within {_duration(digest.first_response_median)}"
        lines.append(line + ".")
        did = True
    if not did:
        lines.append("- *(Add what the team changed this week.)*")
    lines += [
        "",
        "## Keep telling us",
        "",
        f"You can follow the state of every service, and subscribe to e-mail updates, on our "
        f"[status page]({status_url()}). Reply below if we missed something.",
        "",
        f"*{settings.SERVICEPULSE_ORGANISATION} IT*",
    ]
    return "\n".join(lines) + "\n"
