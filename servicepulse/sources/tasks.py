"""Background work for sources. Thin: take ids, re-read rows, tolerate them being gone, call a service."""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from servicepulse.sources.models import Source

logger = logging.getLogger(__name__)


@task()
def sync_source(source_id: int) -> dict[str, int] | None:
    """Pull one source now. Failures are recorded in the source's health (and back-off), not raised.

    The scheduler enqueues only enabled sources and the sources page's "Sync now" is refused for a disabled
    one; a sync enqueued just before its source was paused still runs.
    """
    from servicepulse.sources.registry import ConnectorError
    from servicepulse.sources.services import source_sync

    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return None
    try:
        result = source_sync(source=source)
    except ConnectorError as exc:
        logger.warning("source %s failed: %s", source.name, exc)
        return {"failed": 1}
    counts = {"created": result.created, "duplicates": result.duplicates, "quarantined": result.quarantined}
    if result.skipped:  # posts with nothing to read: said, not silently dropped
        counts["skipped"] = result.skipped
    return counts


@task()
def sync_due_sources() -> int:
    """Enqueue a sync for every enabled pull source that is due; returns how many were enqueued.

    Each due source is claimed by moving its next try forward by its poll interval first, so a tick that
    comes before the sync has run does not enqueue it twice.
    """
    from servicepulse.sources.services import source_claim_due, sources_due

    enqueued = 0
    for source_id in sources_due():
        if source_claim_due(source_id=source_id):
            transaction.on_commit(partial(sync_source.enqueue, source_id))
            enqueued += 1
    logger.debug("enqueued %d source syncs at %s", enqueued, timezone.now())
    return enqueued
