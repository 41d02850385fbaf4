"""The post page parsed by a standard microformats2 parser (mf2py): h-entry, h-card author, comments with
u-in-reply-to."""

from __future__ import annotations

import mf2py
import pytest
from django.conf import settings

from servicepulse.blog.models import Decision
from servicepulse.blog.services import comment_submit, comments_moderate

pytestmark = pytest.mark.django_db


def test_post_page_microformats(client, make_post, admin_user):
    post = make_post(title="Deadline night", author=admin_user, tags=["VLE"])
    top = comment_submit(post=post, body="Thanks for explaining", author_name="Sam", author_email="s@x.org")
    reply = comment_submit(
        post=post, body="You are welcome", parent=top, author_name="Helen", author_email="h@x.org"
    )
    comments_moderate(comment_ids=[top.pk, reply.pk], decision=Decision.APPROVED, moderator=None)
    url = f"{settings.BASE_URL}{post.get_absolute_url()}"  # the canonical address, whatever host was asked
    parsed = mf2py.parse(doc=client.get(post.get_absolute_url()).content.decode(), url=url)
    entry = next(item for item in parsed["items"] if "h-entry" in item["type"])
    props = entry["properties"]
    assert props["name"] == ["Deadline night"]
    assert props["url"][0] == url
    assert props["published"]
    assert props["category"] == ["VLE"]
    assert props["author"][0]["type"] == ["h-card"] and props["author"][0]["properties"]["name"] == [
        "Helen Morrow"
    ]
    assert "deadline night" in props["content"][0]["value"]
    comments = props["comment"]
    assert [c["properties"]["content"][0]["value"] for c in comments] == [
        "Thanks for explaining",
        "You are welcome",
    ]
    assert comments[0]["properties"]["in-reply-to"] == [url]
    assert comments[1]["properties"]["in-reply-to"] == [f"{url}#comment-{top.pk}"]
    assert comments[0]["properties"]["author"][0]["properties"]["name"] == ["Sam"]
    assert parsed["rels"]["webmention"] == [f"{settings.BASE_URL}/blog/webmention/"]
    assert parsed["rels"]["pingback"] == [f"{settings.BASE_URL}/xmlrpc/"]
