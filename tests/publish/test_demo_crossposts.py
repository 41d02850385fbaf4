"""The demo: every published demo blog post has a copy on the demo Mastodon account, with reactions and
replies that came back (approved ones under the post, one waiting in the moderation queue)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from servicepulse.blog.models import Comment, CommentStatus, Post, PostStatus
from servicepulse.publish.demo import DEMO_ACCOUNT, publish_demo_load
from servicepulse.publish.models import Backfeed, CrossPost, CrossPostState
from servicepulse.sources.models import Source

pytestmark = pytest.mark.django_db
END = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


def test_demo_posts_have_mastodon_copies_with_backfed_replies(client, users) -> None:  # type: ignore[no-untyped-def]
    Source.objects.create(kind="mastodon", name=DEMO_ACCOUNT, options={"demo": True}, enabled=False)
    assert publish_demo_load(end=END) == 4
    assert publish_demo_load(end=END) == 0  # idempotent
    published = Post.objects.filter(status=PostStatus.PUBLISHED)
    copies = CrossPost.objects.filter(post__in=published, state=CrossPostState.SENT)
    assert copies.count() == published.count() == 4
    assert Backfeed.objects.count() == 7 and not Backfeed.objects.exclude(mention=None).exists()
    assert Comment.objects.filter(backfeed__isnull=False, status=CommentStatus.PENDING).count() == 1

    vle = Post.objects.get(title__startswith="What the VLE")
    page = client.get(vle.get_absolute_url()).content.decode()
    assert "Extending the deadline the same night" in page  # approved backfed reply, with its original
    assert 'href="https://mastodon.ac.uk/@priyas/' in page
    assert "Could the status page say" not in page  # still held
    assert "likes and" in page and "https://mastodon.ac.uk/@northgateit/" in page

    client.force_login(users["responder"])
    preview = client.get(f"/publish/posts/{vle.slug}/").content.decode()
    assert "Replies from the networks" in preview and "Moderate it" in preview
