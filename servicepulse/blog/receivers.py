"""The blog app's receivers of other apps' signals."""

from __future__ import annotations

from typing import Any

from servicepulse.blog.services import comments_erase_for_mentions


def on_author_erasing(sender: Any, *, author: str, mention_ids: list[int], **kwargs: Any) -> None:
    """A person is being erased (inside the erasure's transaction, before their posts are deleted): erase the
    blog comments those posts came from or were copied into, so the erasure commits or fails as one."""
    comments_erase_for_mentions(mention_ids=mention_ids)
