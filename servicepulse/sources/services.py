"""Writing sources: create, configure, remove, sync, and keep each source's health."""

from __future__ import annotations

import logging
import random
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from servicepulse.sources.models import Audience, Source
from servicepulse.sources.options import check_option
from servicepulse.sources.registry import (
    POLL_SECONDS_RANGE,
    ConnectorError,
    OptionType,
    PullResult,
    Rejected,
    connector_for,
    get_connector_class,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
BACKOFF_DOUBLINGS = 16  # 60 s x 2**16 is past MAX_BACKOFF: no need to count higher
MAX_RETENTION_DAYS = 36500  # a hundred years; far larger numbers put the cut-off date out of range


class SourceConfigError(ValueError):
    """The options given for a source are missing, unknown or malformed. `problems` names, by option, what
    is wrong with each (when the error is about particular options), so a form can say it beside the field."""

    def __init__(self, message: str, *, problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or {}


DEMO_NOTHING_TO_PULL = "holds the demo's generated posts; there is nothing to pull from it"
NOT_PULLED = (
    "is not pulled: its posts are sent to it (widget reports, imported files), so there is nothing to sync"
)


def _refuse_unknown_options(*, kind: str, names: Collection[str]) -> None:
    known = [spec.name for spec in get_connector_class(kind).options]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise SourceConfigError(
            f"unknown option(s) for {kind}: {', '.join(unknown)} (known: {', '.join(known) or 'none'})"
        )


def source_validate_options(*, kind: str, options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split `options` into plain options and secrets per the connector's spec, or raise naming the problem."""
    cls = get_connector_class(kind)
    specs = {spec.name: spec for spec in cls.options}
    _refuse_unknown_options(kind=kind, names=options)
    missing = sorted(name for name, spec in specs.items() if spec.required and not options.get(name))
    if missing:
        raise SourceConfigError(
            f"missing required option(s) for {kind}: {', '.join(missing)}",
            problems=dict.fromkeys(missing, "this option is required"),
        )
    problems: dict[str, str] = {}
    for name, value in options.items():
        try:
            check_option(specs[name], value)
        except ValueError as exc:
            problems[name] = str(exc)
    if problems:  # every bad value at once, not one per attempt
        message = "; ".join(f"option {name}: {problem}" for name, problem in problems.items())
        raise SourceConfigError(f"{kind} {message}", problems=problems)
    plain: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for name, spec in specs.items():
        value = options.get(name, spec.default)
        if value is None:
            continue
        (secret if spec.secret else plain)[name] = value
    candidate = Source(kind=kind, options=plain)
    candidate.set_secrets(secret)
    try:
        cls(candidate).check_options()
    except ConnectorError as exc:
        raise SourceConfigError(f"{kind} source: {exc}") from None
    return plain, secret


def source_name_problem(name: str) -> str:
    """Why `name` will not do for a new source, or "" when it will.

    The name is the last part of the source's webhook and widget addresses (/sources/hooks/<name>/), so it
    must survive being a URL path: a line break cannot be in one at all (the source's own page failed to
    build its address), and HTTP clients and proxies rewrite "." and ".." segments and merge or trim empty
    ones ("a/../b" arrives as "b"), so the platform's deliveries would never reach the source."""
    if not name:
        return "a source needs a name"
    if any(unicodedata.category(char) == "Cc" for char in name):
        return "a source name cannot hold a line break, a tab or another control character"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return (
            "a source name cannot start or end with '/', hold '//', or have '.' or '..' between slashes: "
            "it is part of the source's web address"
        )
    return ""


def source_create(
    *,
    kind: str,
    name: str,
    options: dict[str, Any] | None = None,
    audience: str = Audience.USERS,
    retention_days: int | None = None,
) -> Source:
    """Create a source after checking its options against the connector's spec.

    `audience` "peers" makes it a source for the learning digest (not analysed or scored);
    `retention_days` deletes its posts after that many days."""
    name = name.strip()
    problem = source_name_problem(name)
    if problem:
        raise SourceConfigError(problem)
    if Source.objects.filter(name=name).exists():
        raise SourceConfigError(f"a source named {name!r} already exists")
    if audience not in Audience.values:
        raise SourceConfigError(f"audience must be one of {', '.join(Audience.values)}, not {audience!r}")
    if retention_days is not None and not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise SourceConfigError(f"retention must be between 1 and {MAX_RETENTION_DAYS} days")
    plain, secret = source_validate_options(kind=kind, options=options or {})
    source = Source(kind=kind, name=name, options=plain, audience=audience, retention_days=retention_days)
    source.set_secrets(secret)
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError:
        # Two admins adding the same name at once: the check above passed for both, the unique index did not.
        raise SourceConfigError(f"a source named {name!r} already exists") from None
    return source


def source_get_or_create(*, kind: str, name: str) -> Source:
    """The source named `name`, created with no options when missing (file imports, the blog, the widget)."""
    source, created = Source.objects.get_or_create(name=name, defaults={"kind": kind})
    if not created and source.kind != kind:
        raise SourceConfigError(f"source {name!r} exists with kind {source.kind}, not {kind}")
    return source


# What goes with a source, by the model holding it: (one, several) as the pages and the command say it, or
# None for what is part of a post or of the source itself. Found through the relations that delete with
# the source or its posts, so a kind of row added later is announced too (by its model's name).
REMOVAL_LABELS: dict[str, tuple[str, str] | None] = {
    "mentions.Mention": ("post", "posts"),
    "mentions.Quarantine": ("quarantined row", "quarantined rows"),
    "engage.Case": ("inbox case", "inbox cases"),
    "incidents.IncidentMention": ("post attached to an incident", "posts attached to incidents"),
    "analysis.Correction": ("label correction", "label corrections"),
    "engage.LoopReply": ("closed-loop reply record", "closed-loop reply records"),
    "engage.OptOut": ("reply opt-out", "reply opt-outs"),
    "publish.Backfeed": ("reply fed back to the blog", "replies fed back to the blog"),
    "publish.CrossPostTarget": ("cross-posting account", "cross-posting accounts"),
    "analysis.MentionAnalysis": None,
    "publish.BackfeedCursor": None,
}


def _deleted_with(model: type[models.Model]) -> list[models.ForeignObjectRel]:
    return [
        rel
        for rel in model._meta.get_fields(include_hidden=True)
        if isinstance(rel, models.ForeignObjectRel) and rel.on_delete is models.CASCADE
    ]


def source_removal_summary(*, source: Source) -> dict[str, int]:
    """What `source_remove` would delete with `source`, for the confirmation: counts by what people call
    them, posts first and always given, the rest (quarantined rows, inbox cases, ...) when there are some."""
    posts = source.mentions.count()
    order = list(REMOVAL_LABELS)
    found: list[tuple[int, str, int]] = []
    for rel in _deleted_with(Source):
        model = rel.related_model
        counted = [(model, rel.field.name)]
        if model is source.mentions.model:  # what hangs off its posts, rather than the posts again
            counted = [(r.related_model, f"{r.field.name}__{rel.field.name}") for r in _deleted_with(model)]
        for kind, path in counted:
            key = kind._meta.label
            label = REMOVAL_LABELS.get(
                key, (str(kind._meta.verbose_name), str(kind._meta.verbose_name_plural))
            )
            if label is None:
                continue
            count = kind._default_manager.filter(**{path: source}).count()
            if count:
                found.append((order.index(key) if key in order else len(order), label[count != 1], count))
    summary = {"post" if posts == 1 else "posts": posts}
    summary.update((label, count) for _, label, count in sorted(found))
    return summary


@transaction.atomic
def source_remove(*, name: str) -> int:
    """Remove a source and everything it brought in (see source_removal_summary). Returns the number of
    mentions removed."""
    source = Source.objects.select_for_update().get(name=name)
    count = source.mentions.count()
    source.delete()
    return count


def source_set_cursor(*, source: Source, cursor: dict[str, Any]) -> None:
    """Store a source's cursor. Call only after the mentions it covers are committed."""
    Source.objects.filter(pk=source.pk).update(cursor=cursor)
    source.cursor = cursor


def source_record_success(*, source: Source, next_try_in: timedelta | None = None) -> None:
    """Note a successful pull; the next scheduled pull is due after `next_try_in` (None: at once)."""
    now = timezone.now()
    next_try = now + next_try_in if next_try_in is not None else None
    Source.objects.filter(pk=source.pk).update(
        last_success_at=now, consecutive_failures=0, next_try_at=next_try
    )
    source.last_success_at, source.consecutive_failures, source.next_try_at = now, 0, next_try


def source_poll_interval(*, source: Source) -> timedelta:
    """Time between scheduled pulls: the source's `poll_seconds` option, else its connector's default.

    Raises SourceConfigError when the option is unreadable (stored before options were checked)."""
    value: Any = (source.options or {}).get("poll_seconds")
    if value in (None, ""):
        value = getattr(get_connector_class(source.kind), "poll_seconds", 300)
    low, high = POLL_SECONDS_RANGE
    try:
        return timedelta(seconds=min(max(low, int(value)), high))
    except (TypeError, ValueError, OverflowError):
        raise SourceConfigError(f"option poll_seconds must be a whole number, not {value!r}") from None


def source_record_failure(*, source: Source, error: str, retry_after: float | None = None) -> None:
    """Note a failure and when to try again: the platform's Retry-After, else exponential back-off with jitter."""
    now = timezone.now()
    failures = source.consecutive_failures + 1
    if retry_after is not None:
        delay = timedelta(seconds=max(retry_after, 1))  # at most a day (core.fetcher.bounded_wait)
    else:
        # The doubling stops once past the cap: 60 s x 2**41 overflowed timedelta at the 42nd failure in a
        # row (nine days of a feed gone), and from then on every poll retried without recording anything.
        doubling = timedelta(seconds=60 * 2 ** min(failures - 1, BACKOFF_DOUBLINGS))
        delay = min(doubling, MAX_BACKOFF)
        delay *= 1 + random.random() * 0.1  # noqa: S311 - jitter, not security
    Source.objects.filter(pk=source.pk).update(
        last_error=error[:4000], last_error_at=now, consecutive_failures=failures, next_try_at=now + delay
    )
    source.last_error, source.last_error_at = error[:4000], now
    source.consecutive_failures, source.next_try_at = failures, now + delay


def source_sync(*, source: Source) -> PullResult:
    """Pull once now. Health is recorded either way; a failure re-raises ConnectorError after recording.

    Whatever the pull stored before failing stays stored (each batch commits with its cursor); it is on the
    error's `result` when the connector reports it.
    """
    from servicepulse.core.fetcher import FetchError

    if source.is_demo:
        raise ConnectorError(f"{source.name} {DEMO_NOTHING_TO_PULL}")
    connector = connector_for(source)
    if not connector.can_pull:
        # Refused before the pull, like a demo source: recorded as a failure, it turned a healthy widget or
        # import into "failing" on the sources page because someone asked for a sync it never takes.
        raise ConnectorError(f"{source.name} {NOT_PULLED}")
    try:
        next_try_in = source_poll_interval(source=source)
        result = connector.pull()
    except ConnectorError as exc:
        source_record_failure(source=source, error=str(exc), retry_after=exc.retry_after)
        raise
    except SourceConfigError as exc:
        source_record_failure(source=source, error=str(exc))
        raise ConnectorError(str(exc)) from exc
    except FetchError as exc:
        source_record_failure(source=source, error=str(exc), retry_after=exc.retry_after)
        raise ConnectorError(str(exc), retry_after=exc.retry_after) from exc
    except Exception as exc:  # a connector bug must still show in the source's health, then surface
        message = f"{type(exc).__name__}: {exc}"
        source_record_failure(source=source, error=message)
        raise ConnectorError(message) from exc
    source_record_success(source=source, next_try_in=next_try_in)
    return result


def source_store(
    *,
    source: Source,
    mentions: Sequence[Any],
    rejected: Iterable[Rejected] = (),
    cursor: dict[str, Any] | None = None,
    result: PullResult | None = None,
) -> PullResult:
    """Store one fetched batch: `mentions` (MentionData) through `mentions_ingest`, each of `rejected` in
    quarantine with its reason, in one transaction; then, once that has committed, move the cursor.

    Idempotent on (source, external id), so a batch fetched again after a crash changes nothing. Counts are
    added to `result` when given (a pull's running total) and it is returned.
    """
    from servicepulse.mentions.services import mentions_ingest, quarantine_add

    result = result if result is not None else PullResult()
    with transaction.atomic():
        for item in rejected:
            quarantine_add(source=source, raw=item.raw, reason=item.reason, position=item.position)
            result.quarantined += 1
        ingested = mentions_ingest(source=source, items=list(mentions))
    result.created += ingested.created
    result.duplicates += ingested.duplicates
    result.mention_ids.extend(ingested.mention_ids)
    if cursor is not None:
        source_set_cursor(source=source, cursor=cursor)
    return result


def source_update(
    *,
    source: Source,
    enabled: bool | None = None,
    options: dict[str, Any] | None = None,
    unset: Collection[str] = (),
) -> Source:
    """Enable/disable a source or replace its options (checked against the spec; secrets re-encrypted).

    A secret left out of `options` (or given empty) keeps its stored value, so a form need not show secrets to
    keep them; the secrets named in `unset` are forgotten (a revoked token, replies no longer wanted).
    """
    if enabled and source.is_demo:
        raise SourceConfigError(f"{source.name} {DEMO_NOTHING_TO_PULL}; it stays paused")
    if options is not None and source.is_demo:
        raise SourceConfigError(f"{source.name} {DEMO_NOTHING_TO_PULL}; it has no options to change")
    # Checked before empty values are dropped: `--option typo=` said "updated" and changed nothing.
    _refuse_unknown_options(kind=source.kind, names=[*(options or {}), *unset])
    if options is not None:
        kept = {k: v for k, v in source.secrets.items() if k not in unset}
        merged = {**kept, **{k: v for k, v in options.items() if v not in (None, "")}}
        plain, secret = source_validate_options(kind=source.kind, options=merged)
        addresses = [
            spec.name
            for spec in get_connector_class(source.kind).options
            if spec.type in (OptionType.URL, OptionType.WEBSOCKET_URL)
        ]
        if any((source.options or {}).get(name) != plain.get(name) for name in addresses):
            # Another feed or server: the old one's cursor (ETag, Last-Modified, since ids) would make the new
            # one answer "nothing new", or skip posts, so its first pull starts afresh (stored posts stay once).
            source.cursor = {}
        source.options = plain
        source.set_secrets(secret)
        # Tried at the next tick: a fixed address or token need not wait out a back-off.
        source.next_try_at = None
    if enabled is not None:
        source.enabled = enabled
        if enabled:
            source.next_try_at = None
    source.save()
    return source


def source_is_streamed(*, source: Source) -> bool:
    """True when `servicepulse stream` consumes this source (so scheduled pulls leave it alone).

    Raises SourceConfigError when its streaming option is unreadable (stored before options were checked)."""
    try:
        return connector_for(source).streaming_enabled()
    except ConnectorError:
        return False
    except ValueError as exc:
        raise SourceConfigError(f"option streaming: {exc}") from None


def _record_unschedulable(source: Source, exc: Exception) -> None:
    """One source that cannot be scheduled is noted in its health and the log (its next try backs off), so
    the periodic loop goes on with the others."""
    logger.warning("source %s cannot be scheduled: %s", source.name, exc)
    source_record_failure(source=source, error=f"cannot be scheduled: {exc}")


def sources_streamed(*, names: Collection[str] = ()) -> list[Source]:
    """The enabled sources `servicepulse stream` consumes (all, or those named). A source whose options
    cannot be read is left out, with the reason recorded on it, so it cannot stop the others' streams."""
    streamed = []
    for source in Source.objects.filter(enabled=True).order_by("id"):
        if names and source.name not in names:
            continue
        try:
            if source_is_streamed(source=source):
                streamed.append(source)
        except SourceConfigError as exc:
            _record_unschedulable(source, exc)
    return streamed


def sources_due(*, now: Any = None) -> list[int]:
    """Ids of enabled pull sources whose next try is due. A source whose options cannot be read is left out,
    with the reason recorded on it."""
    from django.db.models import Q

    from servicepulse.sources.registry import connector_classes

    now = now or timezone.now()
    pull_kinds = [kind for kind, cls in connector_classes().items() if cls.can_pull]
    due = (
        Source.objects.filter(enabled=True, kind__in=pull_kinds)
        .filter(Q(next_try_at__isnull=True) | Q(next_try_at__lte=now))
        .order_by("id")
    )
    ids: list[int] = []
    for source in due:
        try:
            # Sources consumed live by `servicepulse stream` are not also pulled on a schedule.
            streamed = source_is_streamed(source=source)
        except Exception as exc:  # one broken source must not stop the schedule of the others
            _record_unschedulable(source, exc)
            continue
        if not streamed:
            ids.append(source.id)
    return ids


def source_claim_due(*, source_id: int, now: Any = None) -> bool:
    """Claim a due source for one scheduled sync: its next try moves forward by its poll interval.

    Returns False when another scheduler tick claimed it first (the conditional update matched nothing), and
    when its poll interval cannot be read (recorded on the source).
    """
    from django.db.models import Q

    now = now or timezone.now()
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return False
    try:
        lease = now + source_poll_interval(source=source)
    except SourceConfigError as exc:
        _record_unschedulable(source, exc)
        return False
    claimed = (
        Source.objects.filter(pk=source_id, enabled=True)
        .filter(Q(next_try_at__isnull=True) | Q(next_try_at__lte=now))
        .update(next_try_at=lease)
    )
    return claimed == 1
