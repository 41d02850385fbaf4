"""Pingback 1.0 through a standard client (xmlrpc.client) against a live server."""

from __future__ import annotations

import xmlrpc.client

import pytest

from servicepulse.blog.models import Comment, CommentKind, CommentStatus
from servicepulse.core import fetcher

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rpc(live_server, blog_settings):
    proxy = xmlrpc.client.ServerProxy(f"{live_server.url}/xmlrpc/")
    yield proxy
    proxy("close")()  # end the keep-alive connection before the live server's database goes away


def _fault(rpc, source, target) -> int:
    with pytest.raises(xmlrpc.client.Fault) as info:
        rpc.pingback.ping(source, target)
    return info.value.faultCode


def test_pingback_faults_and_success(live_server, rpc, web, make_post):
    post = make_post()
    closed = make_post(title="No pings here")
    closed.pings_enabled = False
    closed.save()
    target = f"{live_server.url}{post.get_absolute_url()}"
    web.html(
        "/links",
        f'<html><head><title>Student news</title></head><body><a href="{target}">the post</a></body></html>',
    )
    web.html(
        "/nolink",
        "<html><body><p>Nothing about it. "
        + target
        + ' in text only</p><!-- <a href="'
        + target
        + '">x</a> --></body></html>',
    )
    web.html("/gone", "gone", status="404 Not Found")
    web.html("/broken", "oops", status="500 Internal Server Error")

    assert _fault(rpc, f"{web.base}/gone", target) == 16
    assert _fault(rpc, "ftp://example.org/x", target) == 16
    assert _fault(rpc, f"{web.base}/links?" + "x" * 1000, target) == 16  # longer than Comment.source_url
    assert _fault(rpc, f"{web.base}/nolink", target) == 17
    assert _fault(rpc, f"{web.base}/links", f"{live_server.url}/blog/posts/no-such-post/") == 32
    assert _fault(rpc, f"{web.base}/links", "https://elsewhere.example/blog/posts/x/") == 32
    assert _fault(rpc, f"{web.base}/links", f"{live_server.url}{closed.get_absolute_url()}") == 33
    assert _fault(rpc, f"{web.base}/links", f"{live_server.url}/blog/") == 33  # ours, but not a post
    assert _fault(rpc, f"{web.base}/broken", target) == 50
    assert _fault(rpc, "http://127.0.0.1:9/unreachable", target) == 50

    answer = rpc.pingback.ping(f"{web.base}/links", target)
    assert "registered" in answer
    pingback = Comment.objects.get(kind=CommentKind.PINGBACK)
    assert pingback.source_url == f"{web.base}/links" and pingback.title == "Student news"
    assert pingback.status == CommentStatus.PENDING  # moderated like comments
    assert _fault(rpc, f"{web.base}/links", target) == 48


def test_access_denied_for_private_sources_when_not_allowed(live_server, rpc, web, make_post, settings):
    post = make_post()
    target = f"{live_server.url}{post.get_absolute_url()}"
    web.html("/links", f'<a href="{target}">x</a>')
    settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
    assert _fault(rpc, f"{web.base}/links", target) == 49
    # The refusal does not say what the name resolved to (a map of internal names for anyone) nor how the
    # guard is configured.
    with pytest.raises(xmlrpc.client.Fault) as info:
        rpc.pingback.ping("http://localhost:9/links", target)
    assert info.value.faultCode == 49
    assert "127.0.0.1" not in info.value.faultString and "SERVICEPULSE_" not in info.value.faultString


def test_the_networks_allowed_for_feeds_are_not_open_to_pingbacks(live_server, rpc, web, make_post, settings):
    """SERVICEPULSE_FETCH_ALLOW_NETWORKS opens an intranet server (here the loopback one) to the organisation's
    own fetches (a feed). A pingback's source is anyone's choice: it must not reach that server, or anyone
    could probe its ports and paths through the faults (16 for a 4xx, 50 for a 5xx, 17 for a page)."""
    post = make_post()
    target = f"{live_server.url}{post.get_absolute_url()}"
    web.html("/links", f'<a href="{target}">x</a>')
    settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
    settings.SERVICEPULSE_FETCH_ALLOW_NETWORKS = ["127.0.0.0/8"]
    assert fetcher.fetch(f"{web.base}/links").status == 200  # the feeds' fetches still reach it
    web.received.clear()
    assert _fault(rpc, f"{web.base}/links", target) == 49
    assert _fault(rpc, f"{web.base}/admin/", target) == 49
    assert web.received == []
    assert not Comment.objects.filter(kind=CommentKind.PINGBACK).exists()


def test_rate_limit_is_access_denied(live_server, rpc, web, make_post, settings):
    post = make_post()
    target = f"{live_server.url}{post.get_absolute_url()}"
    settings.SERVICEPULSE_BLOG_RATE_LIMIT = 1
    web.html("/nolink", "<p>no link</p>")
    assert _fault(rpc, f"{web.base}/nolink", target) == 17
    assert _fault(rpc, f"{web.base}/nolink", target) == 49


def test_generic_fault_zero_for_bad_parameters(rpc, live_server):
    with pytest.raises(xmlrpc.client.Fault) as info:
        rpc.pingback.ping("only one argument")
    assert info.value.faultCode == 0
    with pytest.raises(xmlrpc.client.Fault) as info:
        rpc.pingback.ping(1, 2)
    assert info.value.faultCode == 0


def test_get_is_not_allowed(client):
    assert client.get("/xmlrpc/").status_code == 405
