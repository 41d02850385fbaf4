"""Analysis tasks: thin, taking ids. New mentions are enqueued when `mentions_ingested` fires (after commit)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from servicepulse.analysis.selectors import mentions_unanalysed
from servicepulse.analysis.services import mentions_analyze

BATCH = 256
SWEEP_AFTER = timedelta(minutes=10)


@task()
def analyze_mentions(mention_ids: list[int]) -> int:
    """Analyse these mentions; ids that no longer exist are skipped."""
    return mentions_analyze(mention_ids=mention_ids)


@task()
def reanalyze_mentions(mention_ids: list[int]) -> int:
    """Analyse these mentions again (their text was edited on the platform)."""
    return mentions_analyze(mention_ids=mention_ids, force=True)


def enqueue_analysis(mention_ids: list[int]) -> None:
    for start in range(0, len(mention_ids), BATCH):
        analyze_mentions.enqueue(list(mention_ids[start : start + BATCH]))


@task()
def analyze_pending() -> int:
    """Re-queue mentions still unanalysed well after they arrived (a task lost to a killed worker, or a
    mention stored while the queue was down). Analysis is idempotent, so a late duplicate costs only time."""
    ids = mentions_unanalysed(older_than=timezone.now() - SWEEP_AFTER, limit=5000)
    enqueue_analysis(ids)
    return len(ids)
