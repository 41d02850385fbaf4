"""The blog app's receivers of other apps' signals."""

from __future__ import annotations

from typing import Any

from servicepulse.blog.selectors import author_blog_export
from servicepulse.blog.services import comments_erase_for_author


def on_author_erasing(
    sender: Any, *, author: str, mention_ids: list[int], source_id: int | None = None, **kwargs: Any
) -> dict[str, int]:
    """A person is being erased (inside the erasure's transaction, before their posts are deleted): erase their
    blog comments, those their posts came from or were copied into and those that never became posts, so the
    erasure commits or fails as one. Returns what was erased, for the command to report."""
    deleted, erased = comments_erase_for_author(author=author, mention_ids=mention_ids, source_id=source_id)
    return {"blog comments deleted": deleted, 'blog comments left as "[erased]" in their thread': erased}


def on_author_exporting(
    sender: Any, *, author: str, mention_ids: list[int], source_id: int | None = None, **kwargs: Any
) -> dict[str, Any]:
    """A subject access request (`servicepulse export-author`): the blog comments, reply subscriptions and
    moderation-log entries an erasure of the same person would reach."""
    return author_blog_export(author=author, mention_ids=mention_ids, source_id=source_id)
