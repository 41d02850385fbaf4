"""Sending: endpoint discovery on the 23 webmention.rocks cases (local fixtures), Webmention else Pingback."""

from __future__ import annotations

import xmlrpc.client

import pytest

from servicepulse.blog.fetching import fetch
from servicepulse.blog.linkbacks.discovery import webmention_endpoint
from servicepulse.blog.linkbacks.sending import discover, linkbacks_send
from servicepulse.blog.models import SentLinkback


def test_discovery_cases(discovery_web):
    web, cases = discovery_web
    assert len(cases) == 23
    for case in cases:
        endpoint = webmention_endpoint(fetch(web.base + case["path"]))
        assert endpoint == web.base + case["endpoint"], f"case {case['case']}: {case['description']}"


@pytest.mark.django_db
def test_publishing_sends_webmentions_to_every_discovered_endpoint(discovery_web, make_post, settings):
    web, cases = discovery_web
    settings.BASE_URL = "https://blog.northgate.example"
    links = "\n".join(f"- [case {c['case']}]({web.base}{c['path']})" for c in cases)
    post = make_post(body=f"Testing discovery:\n\n{links}\n")
    results = linkbacks_send(post=post)
    assert len(results) == 23
    source = f"https://blog.northgate.example{post.get_absolute_url()}"
    for case in cases:
        posted = web.posts_to(case["endpoint"])
        assert len(posted) == 1, f"case {case['case']}: {case['description']}"
        assert posted[0].form() == {"source": source, "target": web.base + case["path"]}
    assert not [r for r in web.received if r.method == "POST" and "error" in r.path]


@pytest.mark.django_db
def test_pingback_is_sent_when_there_is_no_webmention_endpoint(web, make_post, settings):
    settings.BASE_URL = "https://blog.northgate.example"

    def xmlrpc_server(request):
        _params, method = xmlrpc.client.loads(request.body)
        assert method == "pingback.ping"
        body = xmlrpc.client.dumps(("Pingback registered.",), methodresponse=True)
        return f"HTTP/1.1 200 OK\nContent-Type: text/xml\n\n{body}"

    web.html("/old-blog/post", "<p>An old blog</p>", headers="X-Pingback: {base}/xmlrpc.php\n")
    web.html("/linked-blog/post", '<html><head><link rel="pingback" href="/xmlrpc.php"></head></html>')
    web.html("/plain", "<p>No endpoints at all</p>")
    web.pages["/xmlrpc.php"] = xmlrpc_server
    post = make_post(
        body=f"[a]({web.base}/old-blog/post) [b]({web.base}/linked-blog/post) [c]({web.base}/plain)"
    )
    assert discover(f"{web.base}/old-blog/post") == ("pingback", f"{web.base}/xmlrpc.php")
    results = {r.target: r for r in linkbacks_send(post=post)}
    assert results[f"{web.base}/old-blog/post"].result == "Pingback registered."
    assert results[f"{web.base}/linked-blog/post"].protocol == "pingback"
    assert results[f"{web.base}/plain"].protocol == "none"
    calls = [xmlrpc.client.loads(r.body)[0] for r in web.posts_to("/xmlrpc.php")]
    source = f"https://blog.northgate.example{post.get_absolute_url()}"
    assert sorted(calls) == sorted(
        [(source, f"{web.base}/old-blog/post"), (source, f"{web.base}/linked-blog/post")]
    )


@pytest.mark.django_db
def test_update_also_notifies_pages_no_longer_linked(web, make_post):
    web.html("/a", '<link rel="webmention" href="/wm">')
    web.html("/b", '<link rel="webmention" href="/wm">')
    post = make_post(body=f"[a]({web.base}/a) [b]({web.base}/b)")
    linkbacks_send(post=post)
    from servicepulse.blog.services import post_update

    post_update(post=post, body_markdown=f"[a]({web.base}/a) only now")
    post.refresh_from_db()
    linkbacks_send(post=post)
    targets = [r.form()["target"] for r in web.posts_to("/wm")]
    assert targets.count(f"{web.base}/b") == 2  # told again, so it can drop the mention
    assert SentLinkback.objects.filter(post=post).count() == 2


@pytest.mark.django_db
def test_publishing_enqueues_sending_on_commit(web, make_post, django_capture_on_commit_callbacks):
    from servicepulse.blog.services import post_publish
    from servicepulse.blog.tasks import publish_due_posts

    web.html("/news", '<link rel="webmention" href="/wm">')
    post = make_post(body=f"See [the news]({web.base}/news).", publish=False)
    assert not web.posts_to("/wm")
    with django_capture_on_commit_callbacks(execute=True):
        post_publish(post=post)
    assert [r.form()["target"] for r in web.posts_to("/wm")] == [f"{web.base}/news"]
    # The scheduler's periodic task publishes due posts, which sends too.
    later = make_post(title="Later", body=f"[again]({web.base}/news)", publish=False)
    from datetime import timedelta

    from django.utils import timezone

    later.status, later.publish_at = "scheduled", timezone.now() - timedelta(minutes=1)
    later.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert publish_due_posts.call() == 1
    assert len(web.posts_to("/wm")) == 2
