from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from servicepulse.blog.models import Post, PostStatus
from servicepulse.blog.schedule import SCHEDULE
from servicepulse.blog.services import post_create_draft, post_publish, posts_publish_due

pytestmark = pytest.mark.django_db


def test_markdown_is_rendered_and_sanitised(make_post):
    post = make_post(body="# Title\n\nSome **bold** text <script>alert(1)</script> [x](javascript:alert(1))")
    assert "<strong>bold</strong>" in post.body_html
    assert "<script" not in post.body_html
    assert "javascript:" not in post.body_html


def test_post_create_draft_is_public_entry_point_and_stays_hidden(client, admin_user):
    post = post_create_draft(
        title="You said, we did: printing", body_markdown="We fixed it.", author=admin_user
    )
    assert post.status == PostStatus.DRAFT
    assert client.get(post.get_absolute_url()).status_code == 404
    assert post.title not in client.get("/blog/").content.decode()


def test_scheduled_post_publishes_when_due(make_post):
    post = make_post(publish=False)
    post_publish(post=post, at=timezone.now() + timedelta(hours=1))
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert posts_publish_due() == []
    assert posts_publish_due(now=timezone.now() + timedelta(hours=2)) == [post.pk]
    post.refresh_from_db()
    assert post.is_published


def test_schedule_registers_the_periodic_job():
    assert [job.name for job in SCHEDULE] == ["blog.publish_due_posts"]
    assert SCHEDULE[0].seconds == 60


def test_index_tag_archive_and_search(client, make_post):
    a = make_post(title="Eduroam in Hadley", body="Wi-Fi news", tags=["Wi-Fi"])
    b = make_post(title="VLE deadline night", body="The VLE failed", tags=["VLE"])
    page = client.get("/blog/").content.decode()
    assert a.title in page and b.title in page
    assert 'class="h-entry' in page
    tagged = client.get("/blog/tag/vle/").content.decode()
    assert b.title in tagged and a.title not in tagged
    found = client.get("/blog/", {"q": "eduroam"}).content.decode()
    assert a.title in found and b.title not in found
    month = a.published_at.astimezone(timezone.get_current_timezone())
    assert a.title in client.get(f"/blog/archive/{month.year}/{month.month}/").content.decode()
    assert client.get("/blog/archive/").status_code == 200


def test_post_page_has_microformats_and_discovery(client, make_post, admin_user):
    post = make_post(author=admin_user)
    response = client.get(post.get_absolute_url())
    html = response.content.decode()
    assert response["Link"] == '<http://testserver/blog/webmention/>; rel="webmention"'
    assert response["X-Pingback"] == "http://testserver/xmlrpc/"
    assert '<link rel="webmention" href="/blog/webmention/">' in html
    assert '<link rel="pingback" href="/xmlrpc/">' in html
    for cls in ("h-entry", "p-name", "e-content", "dt-published", "p-author h-card", "u-url"):
        assert cls in html
    assert "trackback:ping=" in html


def test_only_admins_write(client, users):
    assert client.get("/blog/write/").status_code == 302
    client.force_login(users["responder"])
    assert client.get("/blog/write/").status_code == 403
    client.force_login(users["admin"])
    assert client.get("/blog/write/").status_code == 200
    response = client.post(
        "/blog/write/",
        {
            "title": "Printing credit",
            "body_markdown": "Now *free*.",
            "tags": "Printing, Students",
            "action": "publish",
            "comments_enabled": "on",
        },
    )
    assert response.status_code == 302
    post = Post.objects.get(title="Printing credit")
    assert post.is_published and sorted(t.name for t in post.tags.all()) == ["Printing", "Students"]
    response = client.post(
        f"/blog/posts/{post.slug}/edit/",
        {
            "title": "Printing credit",
            "body_markdown": "Later.",
            "action": "schedule",
            "publish_at": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert client.get("/blog/drafts/").status_code == 200
