"""The demo university: catalogue, users, sources and six weeks of posts (see `servicepulse.demo.generator`).

`demo_load` is idempotent: the seed and the end time of the first load are kept in the demo sources'
options, so loading again regenerates exactly the same posts and stores nothing twice. `reset=True` removes
the demo's sources (and with them their posts) and tickets, and loads afresh ending now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from servicepulse.accounts.roles import Role
from servicepulse.accounts.services import user_create
from servicepulse.catalog.models import Service
from servicepulse.catalog.services import catalog_load
from servicepulse.core.progress import progress_bar
from servicepulse.demo import generator
from servicepulse.experience.services import tickets_delete_origin, tickets_import_records
from servicepulse.incidents.calendar import Period
from servicepulse.incidents.services import term_calendar_set
from servicepulse.mentions.models import Mention
from servicepulse.mentions.services import MentionData, mentions_ingest
from servicepulse.sources.models import Source, SourceKind

logger = logging.getLogger(__name__)

DEMO_USERS: list[tuple[str, str, Role]] = [
    ("admin", "demo-admin", Role.ADMIN),
    ("responder", "demo-responder", Role.RESPONDER),
    ("viewer", "demo-viewer", Role.VIEWER),
]
# Experience score targets for the demo's services (set only where no target is set yet).
DEMO_TARGETS: dict[str, int] = {
    "vle": 0,
    "student-email": 0,
    "wifi": -10,
    "portal": 0,
    "library": 10,
    "vpn": -10,
    "printing": -20,
    "timetabling": -10,
    "submission": 0,
    "sso": -10,
    "lecture-capture": 10,
    "service-desk": 30,
}
INGEST_CHUNK = 500
ANALYSIS_CHUNK = 256
TICKET_ORIGIN = "demo"


class DemoError(RuntimeError):
    """The demo cannot be loaded as asked (e.g. a different seed is already loaded without --reset)."""


@dataclass
class DemoSummary:
    services: int = 0
    mentions: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    sources: int = 0
    duplicates: int = 0
    tickets: int = 0
    seed: int = generator.DEFAULT_SEED
    end: datetime | None = None
    analysed: int | None = None  # None: not analysed here (left to the worker)
    detection: str = ""  # what detection over the history did, or why it did not run
    notes: list[str] = field(default_factory=list)


def demo_logins() -> list[tuple[str, str, str]]:
    return [(username, password, role.label) for username, password, role in DEMO_USERS]


@transaction.atomic
def demo_users_create() -> None:
    for username, password, role in DEMO_USERS:
        user_create(username=username, password=password, role=role, email=f"{username}@demo.invalid")


def demo_sources() -> list[Source]:
    return list(Source.objects.filter(options__demo=True).order_by("name"))


def demo_anchor() -> tuple[int, datetime] | None:
    """The seed and end time of the demo in the database, or None when no demo is loaded."""
    for source in demo_sources():
        seed, end = source.options.get("seed"), source.options.get("end")
        if isinstance(seed, int) and isinstance(end, str):
            return seed, datetime.fromisoformat(end)
    return None


@transaction.atomic
def demo_reset() -> int:
    """Remove the demo's sources, their posts (cascade) and the demo's tickets. Returns mentions removed."""
    removed = Mention.objects.filter(source__options__demo=True).count()
    Source.objects.filter(options__demo=True).delete()
    tickets_delete_origin(origin=TICKET_ORIGIN)
    return removed


def demo_load(
    *,
    seed: int | None = None,
    reset: bool = False,
    end: datetime | None = None,
    analyse: bool = True,
    detect: bool = True,
) -> DemoSummary:
    """Load the demo into the database: catalogue, users (one per role), sources, posts and tickets; then
    analyse the posts and run detection over their history where those apps offer a batch function.

    Loading again changes nothing (same seed and end as the first load); `reset` starts afresh ending now.
    """
    from servicepulse.demo.catalog import DEMO_CATALOG

    if not settings.SERVICEPULSE_DEMO_ALLOWED:
        raise DemoError(
            "the demo is not loaded with production settings: its accounts' passwords are published "
            "(start an empty install; `servicepulse users add NAME --role admin` makes the first admin)"
        )
    if reset:
        demo_reset()
    anchor = demo_anchor()
    if anchor is not None:
        if seed is not None and seed != anchor[0]:
            raise DemoError(f"the demo is loaded with seed {anchor[0]}; use --reset to load seed {seed}")
        seed, end = anchor
    seed = generator.DEFAULT_SEED if seed is None else seed
    end = end or timezone.now()

    demo_users_create()
    services = catalog_load(data=DEMO_CATALOG)
    for service_id, target in DEMO_TARGETS.items():
        Service.objects.filter(id=service_id, target_score__isnull=True).update(target_score=target)
    aliases = {s["id"]: list(s["aliases"]) for s in DEMO_CATALOG["services"]}
    names = {s["id"]: s["name"] for s in DEMO_CATALOG["services"]}
    data = generator.generate(
        seed=seed, end=end, aliases=aliases, names=names, tz=timezone.get_default_timezone()
    )
    summary = DemoSummary(services=len(services), logins=demo_logins(), seed=seed, end=data.end)

    sources = _sources_ensure(data)
    summary.sources = len(sources)
    term_calendar_set(
        periods=[
            Period(start=w.start, end=w.end, kind=w.kind)
            for w in generator.term_calendar(end=data.end, tz=timezone.get_default_timezone())
        ]
    )
    new_ids: list[int] = []
    by_channel: dict[str, list[generator.DemoPost]] = {}
    for post in data.posts:
        by_channel.setdefault(post.channel, []).append(post)
    with progress_bar(total=len(data.posts), desc="demo posts", unit="post") as bar:
        for channel, posts in by_channel.items():
            for i in range(0, len(posts), INGEST_CHUNK):
                chunk = posts[i : i + INGEST_CHUNK]
                result = mentions_ingest(source=sources[channel], items=[_mention_data(p) for p in chunk])
                summary.mentions += result.created
                summary.duplicates += result.duplicates
                new_ids.extend(result.mention_ids)
                bar.update(len(chunk))

    report = tickets_import_records(records=[_ticket_record(t) for t in data.tickets], origin=TICKET_ORIGIN)
    summary.tickets = report.imported

    # The blog's demo posts with their copies on the demo Mastodon account and the replies that came back.
    from servicepulse.publish.demo import publish_demo_load

    publish_demo_load(end=data.end)

    if analyse and new_ids:
        try:
            summary.analysed = _analyse(new_ids)
        except Exception as exc:  # the demo must still come up; the worker analyses what is left
            logger.warning("demo: analysing the posts failed: %s", exc)
            summary.notes.append(f"analysing the posts failed ({exc}); the worker will analyse them")
    if detect and summary.mentions and summary.analysed is not None:
        try:
            summary.detection = _detect(data)
        except Exception as exc:  # as above: live detection carries on from here
            logger.warning("demo: detection over the history failed: %s", exc)
            summary.notes.append(f"detection over the history failed ({exc})")
    elif detect and summary.mentions:
        # Detection over history needs analysed posts; with analysis left to the worker, live detection
        # picks the history up once the worker has analysed it.
        summary.detection = "left to live detection (posts are analysed by the worker)"
    # The inbox's answered history, saved replies, past public incidents and subscribers, read from the
    # analysed posts and detected incidents above.
    from servicepulse.engage.demo import demo_engage_load

    demo_engage_load(seed=seed, now=data.end)
    return summary


def _sources_ensure(data: generator.DemoData) -> dict[str, Source]:
    """One source per channel, marked as the demo's: disabled (there is nothing to pull, no network), but for
    the report-a-problem widget, which pulls nothing and takes reports, so its embed snippet can be tried."""
    options = {"demo": True, "seed": data.seed, "end": data.end.isoformat()}
    last_post = {p.channel: p.created_at for p in data.posts}
    sources = {}
    for channel in generator.CHANNELS:
        source, _ = Source.objects.get_or_create(name=channel.name, defaults={"kind": channel.kind})
        source.kind = channel.kind
        source.options = {**source.options, **options}
        source.enabled = channel.kind == SourceKind.WIDGET
        source.last_success_at = last_post.get(channel.key, data.end)
        source.save()
        sources[channel.key] = source
    return sources


def _mention_data(post: generator.DemoPost) -> MentionData:
    return MentionData(
        external_id=post.external_id,
        text=post.text,
        created_at=post.created_at,
        author=post.author,
        author_id=post.author_id,
        url=post.url,
        in_reply_to=post.in_reply_to,
        thread_id=post.thread_id,
        language="en",
        raw=post.raw(),
    )


def _ticket_record(ticket: generator.DemoTicket) -> dict[str, str]:
    return {
        "reference": ticket.reference,
        "opened": ticket.opened.isoformat(),
        "resolved": ticket.resolved.isoformat() if ticket.resolved else "",
        "service": ticket.service,
        "priority": ticket.priority,
    }


def _analyse(mention_ids: list[int]) -> int:
    """Analyse the new posts now, in the analysis app's batches, with a progress bar on stderr.

    (The `mentions_ingested` signal has also queued them for the worker; analysis is idempotent, so the
    worker's pass only refreshes the same rows.)"""
    from servicepulse.analysis.services import mentions_analyze

    analysed = 0
    with progress_bar(total=len(mention_ids), desc="analysing", unit="post") as bar:
        for i in range(0, len(mention_ids), ANALYSIS_CHUNK):
            chunk = mention_ids[i : i + ANALYSIS_CHUNK]
            analysed += mentions_analyze(mention_ids=chunk)
            bar.update(len(chunk))
    return analysed


def _detect(data: generator.DemoData) -> str:
    """Run detection over the demo's six weeks, as if it had run live all along."""
    from servicepulse.incidents.services import detection_backfill

    return str(detection_backfill(since=data.start, until=data.end, progress=True))
