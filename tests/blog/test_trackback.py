"""Trackback 1.2 receiving."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree

from servicepulse.blog.models import Comment, CommentKind

pytestmark = pytest.mark.django_db


def _answer(response):
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    return root.findtext("error"), root.findtext("message")


def test_trackback_success_and_errors(client, make_post):
    post = make_post()
    url = f"/blog/posts/{post.slug}/trackback/"
    ok = client.post(
        url,
        {
            "url": "https://library.example/blog/wifi/",
            "title": "Study spaces",
            "excerpt": "Go to the library",
            "blog_name": "Library blog",
        },
    )
    assert _answer(ok) == ("0", None)
    trackback = Comment.objects.get(kind=CommentKind.TRACKBACK)
    assert trackback.title == "Study spaces" and trackback.author_name == "Library blog"
    error, message = _answer(client.post(url, {"title": "no url"}))
    assert error == "1" and "url" in message
    error, _ = _answer(client.post("/blog/posts/nope/trackback/", {"url": "https://x.example/"}))
    assert error == "1"
    error, _ = _answer(client.get(url))
    assert error == "1"
