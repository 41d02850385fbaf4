"""The incidents app's receivers of other apps' signals."""

from __future__ import annotations

from typing import Any

from servicepulse.incidents.services import incidents_erase_author, incidents_forget_expired_posts


def on_author_erasing(sender: Any, *, author: str, mention_ids: list[int], **kwargs: Any) -> dict[str, int]:
    """A person is being erased (inside the erasure's transaction, before their posts are deleted): take them
    out of the incidents too, so the erasure commits or fails as one. Returns what changed, for the command
    to report."""
    return {
        "incidents they were taken out of": incidents_erase_author(author=author, mention_ids=mention_ids)
    }


def on_mentions_expiring(sender: Any, *, mention_ids: list[int], **kwargs: Any) -> None:
    """Posts past their source's retention are being deleted (inside that transaction): their authors' names
    and their words leave the incidents' stored explanations with them."""
    incidents_forget_expired_posts(mention_ids=mention_ids)
