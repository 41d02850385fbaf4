"""Analysis listens to new mentions (the signal is sent after their transaction commits)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from servicepulse.mentions.signals import mentions_ingested


@receiver(mentions_ingested, dispatch_uid="analysis.enqueue_new_mentions")
def enqueue_new_mentions(sender: Any, mention_ids: list[int], **kwargs: Any) -> None:
    from servicepulse.analysis.tasks import enqueue_analysis

    enqueue_analysis(mention_ids)
