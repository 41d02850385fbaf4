"""Atom (RFC 4287), RSS 2.0, and per-post comment feeds threaded with RFC 4685."""

from __future__ import annotations

import re

import feedparser
import pytest
from defusedxml import ElementTree

from servicepulse.blog.models import Decision
from servicepulse.blog.services import comment_submit, comments_moderate

pytestmark = pytest.mark.django_db
BASE = "https://pulse.northgate.example"


@pytest.fixture(autouse=True)
def _base_url(settings):  # type: ignore[no-untyped-def]
    # The blog's address as configured, not the host the test client asks for.
    settings.BASE_URL = BASE


ATOM = "{http://www.w3.org/2005/Atom}"
THR = "{http://purl.org/syndication/thread/1.0}"


def test_atom_feed_has_every_required_element(client, make_post, admin_user):
    make_post(title="First <post>", author=admin_user, tags=["VLE"])
    make_post(title="Second", body="Body with <script>x</script>", author=admin_user)
    response = client.get("/blog/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ElementTree.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{name}") is not None and feed.find(f"{ATOM}{name}").text, name
    assert any(
        link.get("rel") == "self" and link.get("href") == f"{BASE}/blog/feed/"
        for link in feed.findall(f"{ATOM}link")
    )
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Second", "First <post>"]
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{name}").text, name
        alternate = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"]
        assert alternate and alternate[0].get("href").startswith(f"{BASE}/blog/posts/")
        content = entry.find(f"{ATOM}content")
        assert content is not None and content.get("type") == "html" and content.text
    assert "<script" not in entries[0].find(f"{ATOM}content").text
    replies = [link for link in entries[0].findall(f"{ATOM}link") if link.get("rel") == "replies"]
    assert replies[0].get(f"{THR}count") == "0" and replies[0].get("href").endswith("/comments/feed/")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo and parsed.version == "atom10"


def test_empty_atom_feed_still_has_updated(client):
    feed = ElementTree.fromstring(client.get("/blog/feed/").content)
    assert feed.find(f"{ATOM}updated").text


def test_rss_feed(client, make_post):
    make_post(title="Printing is free")
    response = client.get("/blog/rss/")
    parsed = feedparser.parse(response.content)
    assert parsed.version == "rss20" and not parsed.bozo
    assert parsed.entries[0].title == "Printing is free"
    assert parsed.entries[0].link.startswith(f"{BASE}/blog/posts/")


def test_comment_feed_is_threaded(client, make_post):
    post = make_post()
    top = comment_submit(post=post, body="Top", author_name="A", author_email="a@example.org")
    reply = comment_submit(post=post, body="Reply", parent=top, author_name="B", author_email="b@example.org")
    comments_moderate(comment_ids=[top.pk, reply.pk], decision=Decision.APPROVED, moderator=None)
    response = client.get(f"/blog/posts/{post.slug}/comments/feed/")
    feed = ElementTree.fromstring(response.content)
    post_url = f"{BASE}{post.get_absolute_url()}"
    replies = {
        entry.find(f"{ATOM}id").text: entry.find(f"{THR}in-reply-to").attrib
        for entry in feed.findall(f"{ATOM}entry")
    }
    assert replies[f"{post_url}#comment-{top.pk}"]["ref"] == post_url
    assert replies[f"{post_url}#comment-{reply.pk}"]["ref"] == f"{post_url}#comment-{top.pk}"
    assert replies[f"{post_url}#comment-{reply.pk}"]["href"] == f"{post_url}#comment-{top.pk}"


def _post_content(xml: bytes, *, rss: bool) -> str:
    # Read the raw XML, not feedparser's entries: feedparser resolves relative URLs itself (against the
    # feed), which is what hides broken images from a test but not from many real readers.
    root = ElementTree.fromstring(xml)
    return root.find("channel/item/description").text if rss else root.find(f"{ATOM}entry/{ATOM}content").text


@pytest.mark.parametrize("path", ["/blog/feed/", "/blog/rss/"])
def test_relative_urls_in_a_post_are_absolute_in_the_feeds(client, make_post, path):
    post = make_post(
        title="New map",
        body=(
            "![Map](img/map.png) ![Logo](/media/logo.png) [the plan](plans/2027/) [site](/status/)\n\n"
            "[notes](#notes) [report](https://it.example.org/report) [mail](mailto:it@example.org) "
            "![Graph](https://img.example.org/g.png) <script>alert(1)</script> [x](javascript:alert(2))"
        ),
    )
    post_url = f"{BASE}{post.get_absolute_url()}"
    content = _post_content(client.get(path).content, rss=path == "/blog/rss/")

    # Path-relative URLs against the post's page, root-relative ones against the site: what the post's own
    # page means by them.
    assert f'src="{post_url}img/map.png"' in content
    assert f'src="{BASE}/media/logo.png"' in content
    assert f'href="{post_url}plans/2027/"' in content
    assert f'href="{BASE}/status/"' in content
    # A place in the post, and URLs that are absolute already, are left as they are.
    assert 'href="#notes"' in content
    assert 'href="https://it.example.org/report"' in content and 'href="mailto:it@example.org"' in content
    assert 'src="https://img.example.org/g.png"' in content
    for banned in ("<script", "alert(1)", "javascript:"):
        assert banned not in content, banned


@pytest.mark.parametrize("host", ["testserver", "localhost"])
def test_feeds_link_the_configured_address_whatever_host_was_asked(client, make_post, host):
    post = make_post(title="Printing is free", body="[Status](/status/)")
    comment = comment_submit(post=post, body="Great", author_name="A", author_email="a@example.org")
    comments_moderate(comment_ids=[comment.pk], decision=Decision.APPROVED, moderator=None)
    for path in ("/blog/feed/", "/blog/rss/", f"/blog/posts/{post.slug}/comments/feed/"):
        xml = client.get(path, HTTP_HOST=host).content.decode()
        links = re.findall(r'(?:href|ref)="(http[^"]+)"|<(?:id|link|guid)>(http[^<]+)<', xml)
        found = {a or b for a, b in links}
        assert found and all(url.startswith(f"{BASE}/") for url in found), (path, found)
        assert host not in xml
