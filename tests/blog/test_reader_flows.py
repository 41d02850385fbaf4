"""What readers and moderators run into on the blog: forms sent twice, comments closing while someone writes,
mangled reply links, linkback excerpts, feed summaries and the moderation page's links."""

from __future__ import annotations

import feedparser
import pytest
from defusedxml import ElementTree

from servicepulse.blog.forms import form_timestamp
from servicepulse.blog.models import Comment, CommentKind, CommentStatus, Decision, WebmentionRequest
from servicepulse.blog.services import comment_submit, comments_moderate

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def _form(**extra: str) -> dict[str, str]:
    return {
        "body": "Will the Wi-Fi in the library be fixed before exams?",
        "author_name": "Sam Okafor",
        "author_email": "sam@students.northgate.example",
        "ts": form_timestamp(),
        **extra,
    }


def test_a_comment_sent_twice_is_stored_once(client, make_post, settings):
    post = make_post()
    settings.SERVICEPULSE_BLOG_RATE_LIMIT = 1  # the second copy must not be refused as one comment too many
    data = _form()
    first = client.post(post.get_absolute_url(), data)
    second = client.post(post.get_absolute_url(), data)  # a double click sends the same form again
    comment = Comment.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"{post.get_absolute_url()}#comment-{comment.pk}"
    assert client.session["blog_own_comments"] == [comment.pk]


def test_the_same_words_elsewhere_or_from_someone_else_are_new_comments(make_post):
    post = make_post()
    who = {"author_name": "Sam", "author_email": "sam@students.northgate.example"}
    top = comment_submit(post=post, body="+1", **who)
    comments_moderate(comment_ids=[top.pk], decision=Decision.APPROVED, moderator=None)
    assert comment_submit(post=post, body="+1", **who).pk == top.pk
    reply = comment_submit(post=post, body="+1", parent=top, **who)
    other = comment_submit(
        post=post, body="+1", author_name="Jo", author_email="jo@students.northgate.example"
    )
    assert len({top.pk, reply.pk, other.pk}) == 3
    comments_moderate(comment_ids=[other.pk], decision=Decision.TRASH, moderator=None)
    again = comment_submit(
        post=post, body="+1", author_name="Jo", author_email="jo@students.northgate.example"
    )
    assert again.pk != other.pk  # a trashed comment is not handed back as if it were the reader's
    assert Comment.objects.count() == 4


def test_comments_closing_while_someone_writes_keep_their_text(client, make_post):
    post = make_post()
    page = client.get(post.get_absolute_url())
    assert page.status_code == 200
    post.comments_enabled = False
    post.save()
    text = "I spent a while writing this <b>about</b> the outage."
    response = client.post(post.get_absolute_url(), _form(body=text))
    html = response.content.decode()
    assert response.status_code == 400 and not Comment.objects.exists()
    assert "Your comment was not posted" in html
    assert "I spent a while writing this &lt;b&gt;about&lt;/b&gt; the outage." in html


@pytest.mark.parametrize("parent", ["abc", "1.5", "9" * 30])
def test_a_mangled_reply_link_still_posts_the_comment(client, make_post, parent):
    post = make_post()
    page = client.get(f"{post.get_absolute_url()}?replytocom={parent}")
    assert 'name="parent" value=""' in page.content.decode()  # a link to no comment is no reply
    response = client.post(post.get_absolute_url(), _form(parent=parent))
    assert response.status_code == 302
    assert Comment.objects.get().parent is None


def test_a_reply_link_to_a_comment_makes_a_reply(client, make_post):
    post = make_post()
    top = comment_submit(post=post, body="Top", author_name="A", author_email="a@example.org")
    comments_moderate(comment_ids=[top.pk], decision=Decision.APPROVED, moderator=None)
    assert client.post(post.get_absolute_url(), _form(parent=str(top.pk))).status_code == 302
    assert Comment.objects.latest("id").parent == top


def test_a_reply_sent_back_with_an_error_still_says_what_it_answers(client, make_post):
    post = make_post()
    top = comment_submit(post=post, body="Top", author_name="Jordan Lee", author_email="j@example.org")
    comments_moderate(comment_ids=[top.pk], decision=Decision.APPROVED, moderator=None)
    note = f'Replying to <a href="#comment-{top.pk}">Jordan Lee\N{RIGHT SINGLE QUOTATION MARK}s comment</a>'
    page = client.get(f"{post.get_absolute_url()}?replytocom={top.pk}").content.decode()
    assert note in page
    response = client.post(post.get_absolute_url(), _form(parent=str(top.pk), author_email=""))
    html = response.content.decode()
    assert response.status_code == 400
    assert note in html
    assert f'name="parent" value="{top.pk}"' in html
    assert client.post(post.get_absolute_url(), _form(parent=str(top.pk))).status_code == 302
    assert Comment.objects.latest("id").parent == top


def test_an_address_too_long_to_store_is_a_form_error(client, make_post):
    post = make_post()
    address = "a" * 250 + "@students.northgate.example"
    response = client.post(post.get_absolute_url(), _form(author_email=address))
    assert response.status_code == 400 and not Comment.objects.exists()
    assert "Ensure this value has at most 254 characters" in response.content.decode()


def test_a_webmention_excerpt_is_the_entry_text_with_its_words_apart(
    client, make_post, web, django_capture_on_commit_callbacks
):
    post = make_post()
    target = f"http://testserver{post.get_absolute_url()}"
    web.html(
        "/reply",
        f"""<html><head><title>Re: deadline night</title></head><body><article class="h-entry">
        <a class="p-author h-card" href="/"><img src="/me.png" alt="">Alex Blogger</a>
        <div class="e-content"><p>Good write-up<br>of the <a href="{target}">outage</a>.</p><p>Thanks.</p></div>
        <footer>Share · Like · 3 comments</footer></article></body></html>""",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            client.post("/blog/webmention/", {"source": f"{web.base}/reply", "target": target}).status_code
            == 202
        )
    mention = Comment.objects.get(kind=CommentKind.WEBMENTION)
    assert mention.author_name == "Alex Blogger"
    assert mention.body == "Good write-up of the outage. Thanks."


def test_a_webmention_from_a_private_address_is_refused_without_the_test_allowance(
    client, make_post, web, settings, django_capture_on_commit_callbacks
):
    post = make_post()
    settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
    target = f"http://testserver{post.get_absolute_url()}"
    web.html("/reply", f'<a href="{target}">x</a>')
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            client.post("/blog/webmention/", {"source": f"{web.base}/reply", "target": target}).status_code
            == 202
        )
    request = WebmentionRequest.objects.get()
    assert request.state == "failed" and not Comment.objects.exists()
    assert not web.received  # the loopback server was never contacted


def test_atom_summary_is_the_excerpt_as_text_and_absent_without_one(client, make_post):
    make_post(title="With excerpt", excerpt="Speeds < 10 Mbps & <b>rising</b>")
    make_post(title="Without excerpt")
    response = client.get("/blog/feed/")
    entries = {
        entry.find(f"{ATOM}title").text: entry
        for entry in ElementTree.fromstring(response.content).iter(f"{ATOM}entry")
    }
    assert entries["Without excerpt"].find(f"{ATOM}summary") is None
    assert entries["Without excerpt"].find(f"{ATOM}content").text
    summary = entries["With excerpt"].find(f"{ATOM}summary")
    # type="html": the plain-text excerpt arrives escaped, so readers show it as written, not as markup.
    assert summary.get("type") == "html"
    assert summary.text == "Speeds &lt; 10 Mbps &amp; &lt;b&gt;rising&lt;/b&gt;"
    assert not feedparser.parse(response.content).bozo


def test_comment_feed_entries_have_no_empty_summary(client, make_post):
    post = make_post()
    comment = comment_submit(post=post, body="Thanks", author_name="A", author_email="a@example.org")
    comments_moderate(comment_ids=[comment.pk], decision=Decision.APPROVED, moderator=None)
    feed = ElementTree.fromstring(client.get(f"/blog/posts/{post.slug}/comments/feed/").content)
    entry = feed.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}summary") is None and "Thanks" in entry.find(f"{ATOM}content").text


def test_moderation_links_to_the_word_lists_only_for_those_who_may_change_them(clients, make_post):
    post = make_post()
    comment_submit(post=post, body="Held", author_name="A", author_email="a@example.org")
    responder = clients["responder"].get("/blog/moderation/").content.decode()
    admin = clients["admin"].get("/blog/moderation/").content.decode()
    assert "/blog/moderation/words/" not in responder
    assert "/blog/moderation/words/" in admin
    assert clients["responder"].get("/blog/moderation/words/").status_code == 403


def test_drafts_page_closes_every_element_it_opens(clients, make_post):
    make_post(title="Unfinished", publish=False)
    html = clients["admin"].get("/blog/drafts/").content.decode()
    assert "Unfinished" in html
    assert html.count("<div") == html.count("</div>")


def test_drafts_are_paged_most_recently_changed_first(clients, make_post):
    """A "You said, we did" draft comes every week: a year of them was one long table."""
    for week in range(30):
        make_post(title=f"You said, we did: week {week:02d}", publish=False)
    first = clients["admin"].get("/blog/drafts/").content.decode()
    assert "week 29" in first and "week 05" in first and "week 04" not in first
    assert "Page 1 of 2" in first
    second = clients["admin"].get("/blog/drafts/?page=2").content.decode()
    assert "week 04" in second and "week 00" in second and "week 29" not in second


def test_held_comment_shows_to_its_writer_after_the_second_copy(client, make_post):
    post = make_post()
    data = _form()
    client.post(post.get_absolute_url(), data)
    client.post(post.get_absolute_url(), data)
    comment = Comment.objects.get()
    assert comment.status == CommentStatus.PENDING  # a first-time commenter is held
    html = client.get(post.get_absolute_url()).content.decode()
    assert html.count(f'id="comment-{comment.pk}"') == 1 and "awaiting moderation" in html
