"""Webmention receiving per the W3C Recommendation: request checks (400/202), asynchronous verification."""

from __future__ import annotations

import pytest

from servicepulse.blog.models import Comment, CommentKind, WebmentionRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(make_post):
    return make_post()


def _send(client, source, target):
    return client.post("/blog/webmention/", {"source": source, "target": target})


def test_request_checks_answer_400(client, post):
    target = f"http://testserver{post.get_absolute_url()}"
    assert _send(client, "", target).status_code == 400
    assert _send(client, "https://a.example/", "").status_code == 400
    assert _send(client, "ftp://a.example/x", target).status_code == 400
    assert _send(client, "not a url", target).status_code == 400
    assert _send(client, "https://a.example/", "mailto:x@y.z").status_code == 400
    assert _send(client, target, target).status_code == 400  # same URL
    assert _send(client, "https://a.example/", "http://testserver/blog/posts/unknown/").status_code == 400
    assert (
        _send(client, "https://a.example/", "https://other.example/blog/posts/" + post.slug + "/").status_code
        == 400
    )
    assert _send(client, "https://a.example/", "http://testserver/blog/").status_code == 400  # not a post
    assert client.get("/blog/webmention/").status_code == 405
    long = "https://a.example/" + "x" * 1000  # longer than the row holds: a 500 on PostgreSQL
    assert _send(client, long, target).status_code == 400
    assert WebmentionRequest.objects.count() == 0


def test_valid_request_is_accepted_with_202_and_verified_later(
    client, post, web, django_capture_on_commit_callbacks
):
    target = f"http://testserver{post.get_absolute_url()}"
    web.html(
        "/reply",
        f"""<html><head><title>Re: deadline night</title><script>alert(1)</script></head><body>
        <article class="h-entry"><a class="p-author h-card" href="/">Jo Reader</a>
        <div class="e-content"><p>Good write-up <b>indeed</b>. <a href="{target}">the post</a></p>
        <script>document.write('x')</script></div></article></body></html>""",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(client, f"{web.base}/reply", target)
    assert response.status_code == 202
    request = WebmentionRequest.objects.get()
    assert request.state == "accepted"
    mention = Comment.objects.get(kind=CommentKind.WEBMENTION)
    assert mention.source_url == f"{web.base}/reply"
    assert mention.title == "Re: deadline night" and mention.author_name == "Jo Reader"
    assert (
        "Good write-up indeed" in mention.body
        and "<" not in mention.body
        and "document.write" not in mention.body
    )


def test_update_replaces_and_410_or_missing_link_removes(
    client, post, web, django_capture_on_commit_callbacks
):
    target = f"http://testserver{post.get_absolute_url()}"
    source = f"{web.base}/reply"
    web.html("/reply", f'<title>First</title><p class="e-content">v1 <a href="{target}">x</a></p>')
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, source, target)
    web.html("/reply", f'<title>Second</title><p class="e-content">v2 <a href="{target}">x</a></p>')
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, source, target)
    mentions = Comment.objects.filter(kind=CommentKind.WEBMENTION)
    assert mentions.count() == 1 and mentions.get().title == "Second" and "v2" in mentions.get().body
    web.html("/reply", "<p>I took the link out</p>")
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, source, target)
    assert not mentions.exists()
    assert WebmentionRequest.objects.latest("id").state == "removed"
    web.html("/reply", f'<a href="{target}">back</a>')
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, source, target)
    assert mentions.count() == 1
    web.html("/reply", "gone", status="410 Gone")
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, source, target)
    assert not mentions.exists()


@pytest.mark.parametrize(
    ("markup", "counts"),
    [
        ('<a href="{t}">link</a>', True),
        ('<img src="{t}" alt="">', True),
        ('<video src="{t}"></video>', True),
        ("<p>{t} appears as text only</p>", False),
        ('<!-- <a href="{t}">commented out</a> -->', False),
        ("<code>&lt;a href=&quot;{t}&quot;&gt;&lt;/a&gt;</code>", False),
        ('<a href="{t}-not-quite">near miss</a>', False),
    ],
)
def test_link_counted_only_where_the_spec_counts_it(
    client, post, web, markup, counts, django_capture_on_commit_callbacks
):
    target = f"http://testserver{post.get_absolute_url()}"
    web.html("/src", "<html><body>" + markup.format(t=target) + "</body></html>")
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(client, f"{web.base}/src", target).status_code == 202
    assert Comment.objects.filter(kind=CommentKind.WEBMENTION).exists() is counts


def test_unreachable_source_is_recorded_as_failed(client, post, django_capture_on_commit_callbacks):
    target = f"http://testserver{post.get_absolute_url()}"
    with django_capture_on_commit_callbacks(execute=True):
        assert _send(client, "http://127.0.0.1:9/nothing", target).status_code == 202
    assert WebmentionRequest.objects.get().state == "failed"
    assert not Comment.objects.exists()


def test_approved_linkbacks_are_listed_under_the_post(client, post, web, django_capture_on_commit_callbacks):
    from servicepulse.blog.models import Decision
    from servicepulse.blog.services import comments_moderate

    target = f"http://testserver{post.get_absolute_url()}"
    web.html("/reply", f'<title>Student union news</title><a href="{target}">x</a>')
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, f"{web.base}/reply", target)
    mention = Comment.objects.get()
    assert "Student union news" not in client.get(post.get_absolute_url()).content.decode()  # held first
    comments_moderate(comment_ids=[mention.pk], decision=Decision.APPROVED, moderator=None)
    assert "Student union news" in client.get(post.get_absolute_url()).content.decode()


@pytest.mark.usefixtures("rate_limit_window")
def test_rate_limit_per_address_answers_429(client, post, settings):
    settings.SERVICEPULSE_BLOG_RATE_LIMIT = 2
    target = f"http://testserver{post.get_absolute_url()}"
    assert [_send(client, f"https://a.example/{i}", target).status_code for i in range(3)] == [202, 202, 429]


@pytest.mark.parametrize("tail", ["<a" * 30_000, "<!--" * 30_000, "</" * 30_000, "<a b='" * 20_000])
def test_a_malformed_source_page_is_read_in_linear_time(web, tail):
    """Python's html.parser takes time quadratic in unclosed tags and comments: a source page ending in "<a"
    repeated 30,000 times (60 kB; the blog fetches up to 1 MB) took seconds to read, and minutes at the limit,
    inside the Pingback request (its web worker) or the Webmention verification. html5lib reads it in linear
    time, and what the page says is still found."""
    import time

    from servicepulse.blog.fetching import fetch
    from servicepulse.blog.linkbacks.discovery import read_source

    target = "https://blog.example/blog/posts/a/"
    web.html(
        "/slow",
        f'<title>Slow</title><div class="h-card p-author">Ann</div><a href="{target}">the post</a>' + tail,
    )
    response = fetch(f"{web.base}/slow")
    started = time.perf_counter()
    page = read_source(response, target)
    assert time.perf_counter() - started < 1.5
    assert page.links_to_target and page.title == "Slow" and page.author == "Ann"
