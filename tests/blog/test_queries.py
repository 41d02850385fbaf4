"""Query counts pinned on the blog's list pages, so an N+1 fails the build."""

from __future__ import annotations

import pytest

from servicepulse.blog.models import Decision
from servicepulse.blog.services import comment_submit, comments_moderate

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_blog(make_post, admin_user):
    posts = [make_post(title=f"Post {i}", tags=["VLE", f"t{i}"], author=admin_user) for i in range(8)]
    parent = None
    ids = []
    for i in range(12):
        parent = comment_submit(
            post=posts[0],
            body=f"comment {i}",
            parent=parent if i % 2 else None,
            author_name=f"P{i}",
            author_email=f"p{i}@example.org",
        )
        ids.append(parent.pk)
    comments_moderate(comment_ids=ids[:10], decision=Decision.APPROVED, moderator=None)
    return posts


def test_index_queries(client, busy_blog, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        assert client.get("/blog/").status_code == 200


def test_post_page_queries(client, busy_blog, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert client.get(busy_blog[0].get_absolute_url()).status_code == 200


def test_moderation_queue_queries(client, users, busy_blog, django_assert_max_num_queries):
    client.force_login(users["responder"])
    for status in ("pending", "approved"):
        with django_assert_max_num_queries(10):
            assert client.get("/blog/moderation/", {"status": status}).status_code == 200


def test_feed_queries(client, busy_blog, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert client.get("/blog/feed/").status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get(f"/blog/posts/{busy_blog[0].slug}/comments/feed/").status_code == 200
