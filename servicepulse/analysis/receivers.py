"""Analysis listens to new mentions (the signal is sent after their transaction commits)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from servicepulse.mentions.signals import mentions_ingested, mentions_revised


@receiver(mentions_ingested, dispatch_uid="analysis.enqueue_new_mentions")
def enqueue_new_mentions(sender: Any, mention_ids: list[int], **kwargs: Any) -> None:
    from servicepulse.analysis.tasks import enqueue_analysis

    enqueue_analysis(mention_ids)


@receiver(mentions_revised, dispatch_uid="analysis.enqueue_revised_mentions")
def enqueue_revised_mentions(sender: Any, mention_ids: list[int], **kwargs: Any) -> None:
    from servicepulse.analysis.tasks import reanalyze_mentions

    reanalyze_mentions.enqueue(list(mention_ids))
