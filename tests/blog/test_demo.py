from __future__ import annotations

from datetime import UTC, datetime

import pytest

from servicepulse.blog.models import Comment, Post, PostStatus
from servicepulse.blog.services import blog_demo_load

pytestmark = pytest.mark.django_db


def test_demo_blog_loads_once(client):
    end = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # a Thursday
    assert blog_demo_load(end=end) == 5
    assert blog_demo_load(end=end) == 0
    published = Post.objects.filter(status=PostStatus.PUBLISHED).order_by("published_at")
    assert [p.title for p in published][-1] == "What the VLE outage on deadline night taught us"
    assert all(p.published_at <= end for p in published)
    assert Post.objects.get(status=PostStatus.SCHEDULED).publish_at > end
    replies = Comment.objects.filter(parent__isnull=False)
    assert replies.exists() and all(c.depth == c.parent.depth + 1 for c in replies)
    page = client.get("/blog/").content.decode()
    assert "Wi-Fi in the Hopkins Building" in page and "Next: moving student e-mail" not in page


def test_demo_on_a_monday_morning_skips_posts_not_yet_written():
    end = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 08:00: this week's posts are not written yet
    blog_demo_load(end=end)
    assert not Post.objects.filter(title__startswith="What the VLE").exists()
