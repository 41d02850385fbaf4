"""The dashboard app's receivers of other apps' signals."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from servicepulse.dashboard.selectors import live_counts_forget


def on_author_erasing(sender: Any, *, author: str, mention_ids: list[int], **kwargs: Any) -> None:
    """A person is being erased (inside the erasure's transaction): once it commits, forget the cached live
    counts and complaint themes, whose example posts may be theirs, so the board and service pages stop
    quoting them at once rather than up to ten minutes later. Moving the cache generation on leaves the rest
    of the cache (the task queue may share it) alone; a rolled-back erasure forgets nothing."""
    if mention_ids:
        transaction.on_commit(live_counts_forget)
