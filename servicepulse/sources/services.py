"""Writing sources: create, configure, remove, sync, and keep each source's health."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from servicepulse.sources.models import Source
from servicepulse.sources.registry import ConnectorError, PullResult, connector_for, get_connector_class

MAX_BACKOFF = timedelta(hours=6)


class SourceConfigError(ValueError):
    """The options given for a source are missing, unknown or malformed."""


def source_validate_options(*, kind: str, options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split `options` into plain options and secrets per the connector's spec, or raise naming the problem."""
    cls = get_connector_class(kind)
    specs = {spec.name: spec for spec in cls.options}
    unknown = sorted(set(options) - set(specs))
    if unknown:
        known = ", ".join(specs) or "none"
        raise SourceConfigError(f"unknown option(s) for {kind}: {', '.join(unknown)} (known: {known})")
    missing = sorted(name for name, spec in specs.items() if spec.required and not options.get(name))
    if missing:
        raise SourceConfigError(f"missing required option(s) for {kind}: {', '.join(missing)}")
    plain: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for name, spec in specs.items():
        value = options.get(name, spec.default)
        if value is None:
            continue
        (secret if spec.secret else plain)[name] = value
    return plain, secret


def source_create(*, kind: str, name: str, options: dict[str, Any] | None = None) -> Source:
    """Create a source after checking its options against the connector's spec."""
    name = name.strip()
    if not name:
        raise SourceConfigError("a source needs a name")
    if Source.objects.filter(name=name).exists():
        raise SourceConfigError(f"a source named {name!r} already exists")
    plain, secret = source_validate_options(kind=kind, options=options or {})
    source = Source(kind=kind, name=name, options=plain)
    source.set_secrets(secret)
    source.save()
    return source


def source_get_or_create(*, kind: str, name: str) -> Source:
    """The source named `name`, created with no options when missing (file imports, the blog, the widget)."""
    source, created = Source.objects.get_or_create(name=name, defaults={"kind": kind})
    if not created and source.kind != kind:
        raise SourceConfigError(f"source {name!r} exists with kind {source.kind}, not {kind}")
    return source


def source_remove(*, name: str) -> int:
    """Remove a source and everything it brought in. Returns the number of mentions removed."""
    source = Source.objects.get(name=name)
    count = source.mentions.count()
    source.delete()
    return count


def source_set_cursor(*, source: Source, cursor: dict[str, Any]) -> None:
    """Store a source's cursor. Call only after the mentions it covers are committed."""
    Source.objects.filter(pk=source.pk).update(cursor=cursor)
    source.cursor = cursor


def source_record_success(*, source: Source) -> None:
    now = timezone.now()
    Source.objects.filter(pk=source.pk).update(last_success_at=now, consecutive_failures=0, next_try_at=None)
    source.last_success_at, source.consecutive_failures, source.next_try_at = now, 0, None


def source_record_failure(*, source: Source, error: str, retry_after: float | None = None) -> None:
    """Note a failure and when to try again: the platform's Retry-After, else exponential back-off with jitter."""
    now = timezone.now()
    failures = source.consecutive_failures + 1
    if retry_after is not None:
        delay = timedelta(seconds=max(retry_after, 1))
    else:
        delay = min(timedelta(seconds=60 * 2 ** (failures - 1)), MAX_BACKOFF)
        delay *= 1 + random.random() * 0.1  # noqa: S311 - jitter, not security
    Source.objects.filter(pk=source.pk).update(
        last_error=error[:4000], last_error_at=now, consecutive_failures=failures, next_try_at=now + delay
    )
    source.last_error, source.last_error_at = error[:4000], now
    source.consecutive_failures, source.next_try_at = failures, now + delay


def source_sync(*, source: Source) -> PullResult:
    """Pull once now. Health is recorded either way; a failure re-raises ConnectorError after recording."""
    connector = connector_for(source)
    try:
        result = connector.pull()
    except ConnectorError as exc:
        source_record_failure(source=source, error=str(exc), retry_after=exc.retry_after)
        raise
    source_record_success(source=source)
    return result


def sources_due(*, now: Any = None) -> list[int]:
    """Ids of enabled pull sources whose next try is due."""
    from django.db.models import Q

    from servicepulse.sources.registry import connector_classes

    now = now or timezone.now()
    pull_kinds = [kind for kind, cls in connector_classes().items() if cls.can_pull]
    return list(
        Source.objects.filter(enabled=True, kind__in=pull_kinds)
        .filter(Q(next_try_at__isnull=True) | Q(next_try_at__lte=now))
        .values_list("id", flat=True)
    )
