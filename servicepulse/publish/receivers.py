"""Following the blog: a post published, edited, unpublished or deleted moves its cross-posted copies; new
mentions on an account with copies are scanned for replies and quotes.

The blog sends no signals of its own, so this listens to the Post model's save and delete signals. A post
created already published (a WordPress import, the demo) or published long ago is never cross-posted.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from servicepulse.blog.models import Post, PostStatus

WATCHED = ("title", "excerpt", "body_markdown")


def remember_previous(sender: type[Post], instance: Post, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        instance._crosspost_previous = None  # type: ignore[attr-defined]
        return
    instance._crosspost_previous = (  # type: ignore[attr-defined]
        Post.objects.filter(pk=instance.pk).values("status", "published_at", *WATCHED).first()
    )


def on_post_saved(
    sender: type[Post], instance: Post, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    from servicepulse.publish import crosspost

    previous = getattr(instance, "_crosspost_previous", None)
    if raw or created or previous is None:
        return
    was_published = previous["status"] == PostStatus.PUBLISHED and previous["published_at"] is not None
    if instance.is_published and not was_published:
        if instance.published_at and timezone.now() - instance.published_at <= crosspost.FRESH_FOR:
            crosspost.crossposts_draft(post=instance)
    elif was_published and not instance.is_published:
        crosspost.crossposts_post_withdrawn(post=instance)
    elif instance.is_published and any(previous[f] != getattr(instance, f) for f in WATCHED):
        crosspost.crossposts_post_changed(post=instance)


def on_post_deleting(sender: type[Post], instance: Post, **kwargs: Any) -> None:
    from servicepulse.publish import crosspost
    from servicepulse.publish.models import CrossPost

    # The copies outlive the post (their `post` becomes null) so the remote ones can still be deleted.
    if CrossPost.objects.filter(post=instance).exists():
        instance.status = PostStatus.DRAFT
        crosspost.crossposts_post_withdrawn(post=instance)


def on_mentions_ingested(sender: Any, mention_ids: list[int], **kwargs: Any) -> None:
    from servicepulse.mentions.models import Mention
    from servicepulse.publish.backfeed import sources_with_copies
    from servicepulse.publish.tasks import backfeed_scan_task

    watched = set(sources_with_copies())
    if not watched:
        return
    touched = set(
        Mention.objects.filter(pk__in=mention_ids, source_id__in=watched).values_list("source_id", flat=True)
    )
    for source_id in sorted(touched):
        transaction.on_commit(partial(backfeed_scan_task.enqueue, source_id))
