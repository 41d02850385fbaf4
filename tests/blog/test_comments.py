from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from servicepulse.blog.forms import elapsed_since, form_timestamp
from servicepulse.blog.models import (
    Comment,
    CommentStatus,
    Decision,
    ModerationDecision,
    ReplySubscription,
    WordListKind,
)
from servicepulse.blog.selectors import moderation_decisions_for_training
from servicepulse.blog.services import (
    CommentRejected,
    comment_edit,
    comment_submit,
    comments_moderate,
    word_list_set,
)
from servicepulse.mentions.models import Mention

pytestmark = pytest.mark.django_db

GUEST = {
    "author_name": "Sam Okafor",
    "author_email": "sam@students.northgate.example",
    "ip_address": "192.0.2.10",
}


def _approve_someone(post, **who):
    comment = comment_submit(post=post, body="Thanks for the update.", **{**GUEST, **who})
    comments_moderate(comment_ids=[comment.pk], decision=Decision.APPROVED, moderator=None)
    return comment


def test_guest_comment_with_three_links_is_held(make_post):
    post = make_post()
    _approve_someone(post)  # a known commenter, so only the links can hold it
    body = "See https://a.example/1 and https://b.example/2 and https://c.example/3"
    comment = comment_submit(post=post, body=body, **GUEST)
    assert comment.status == CommentStatus.PENDING
    assert any("3 links" in reason for reason in comment.hold_reasons)


def test_first_time_commenter_is_held_then_known_commenter_is_approved(make_post):
    post = make_post()
    first = comment_submit(post=post, body="First time here.", **GUEST)
    assert first.status == CommentStatus.PENDING
    assert first.hold_reasons == ["first-time commenter"]
    comments_moderate(comment_ids=[first.pk], decision=Decision.APPROVED, moderator=None)
    second = comment_submit(post=post, body="Me again, no links.", **GUEST)
    assert second.status == CommentStatus.APPROVED


def test_moderation_words_hold_and_blocklist_catches_spam(make_post):
    post = make_post()
    _approve_someone(post)
    word_list_set(kind=WordListKind.MODERATION, terms=["refund"])
    word_list_set(kind=WordListKind.BLOCKLIST, terms=["cheap essays", "203.0.113.50"])
    held = comment_submit(post=post, body="Can I get a REFUND for printing?", **GUEST)
    assert held.status == CommentStatus.PENDING and held.hold_reasons == ["moderation word: refund"]
    spam = comment_submit(post=post, body="Buy CHEAP ESSAYS now", **GUEST)
    assert spam.status == CommentStatus.SPAM
    by_ip = comment_submit(post=post, body="Nice post", **{**GUEST, "ip_address": "203.0.113.50"})
    assert by_ip.status == CommentStatus.SPAM


def test_spam_comment_is_caught_through_the_form(client, make_post):
    post = make_post()
    word_list_set(kind=WordListKind.BLOCKLIST, terms=["casino"])
    response = client.post(
        post.get_absolute_url(),
        {
            "body": "Best online casino bonus",
            "author_name": "Bot",
            "author_email": "bot@spam.example",
            "ts": form_timestamp(),
        },
    )
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert comment.status == CommentStatus.SPAM
    assert "casino" not in client.get(post.get_absolute_url()).content.decode()


@pytest.mark.usefixtures("rate_limit_window")
def test_honeypot_and_fill_time_and_rate_limit_refuse(make_post, settings):
    post = make_post()
    with pytest.raises(CommentRejected) as honeypot:
        comment_submit(post=post, body="hi", honeypot="http://spam.example", **GUEST)
    assert honeypot.value.code == "honeypot"
    settings.SERVICEPULSE_BLOG_MIN_FILL_SECONDS = 3
    with pytest.raises(CommentRejected) as fast:
        comment_submit(post=post, body="hi", elapsed_seconds=0.5, **GUEST)
    assert fast.value.code == "too_fast"
    settings.SERVICEPULSE_BLOG_RATE_LIMIT = 2
    comment_submit(post=post, body="one", elapsed_seconds=10, **{**GUEST, "ip_address": "192.0.2.99"})
    comment_submit(post=post, body="two", elapsed_seconds=10, **{**GUEST, "ip_address": "192.0.2.99"})
    with pytest.raises(CommentRejected) as limited:
        comment_submit(post=post, body="three", elapsed_seconds=10, **{**GUEST, "ip_address": "192.0.2.99"})
    assert limited.value.code == "rate"
    assert limited.value.retry_after is not None and limited.value.retry_after % 60 == 0
    assert Comment.objects.count() == 2


def test_form_honeypot_discards_and_forged_timestamp_refuses(client, make_post, settings):
    post = make_post()
    data = {"body": "hello", "author_name": "A", "author_email": "a@example.org", "ts": form_timestamp()}
    response = client.post(post.get_absolute_url(), {**data, "website_confirm": "x"})
    assert response.status_code == 400 and Comment.objects.count() == 0
    settings.SERVICEPULSE_BLOG_MIN_FILL_SECONDS = 3
    response = client.post(post.get_absolute_url(), {**data, "ts": "forged"})
    assert response.status_code == 400 and Comment.objects.count() == 0


@pytest.mark.usefixtures("rate_limit_window")
def test_a_reader_over_the_rate_limit_is_told_when_to_send_again_and_keeps_what_they_wrote(
    client, make_post, settings
):
    post = make_post()
    settings.SERVICEPULSE_BLOG_RATE_LIMIT = 1
    settings.SERVICEPULSE_BLOG_RATE_WINDOW_SECONDS = 600
    data = {
        "body": "The printers in the library are offline.",
        "author_name": "Ann Lee",
        "author_email": "ann@example.org",
        "author_url": "https://ann.example/",
        "ts": form_timestamp(),
    }
    assert client.post(post.get_absolute_url(), data).status_code == 302

    response = client.post(post.get_absolute_url(), {**data, "body": "And the scanner <too>."})

    assert response.status_code == 429
    retry = int(response["Retry-After"])
    assert 60 <= retry <= 600 and retry % 60 == 0  # whole minutes, no finer than a person needs
    page = response.content.decode()
    minutes = retry // 60
    assert "Your comment was not posted" in page
    assert f"about {minutes} minute{'s' if minutes != 1 else ''}" in page
    # Nothing typed is lost: the form comes back filled in (escaped), ready to send again.
    assert "And the scanner &lt;too&gt;.</textarea>" in page
    for value in ('value="Ann Lee"', 'value="ann@example.org"', 'value="https://ann.example/"'):
        assert value in page
    assert Comment.objects.count() == 1


def test_refusals_other_than_the_rate_limit_are_bad_requests_and_the_honeypot_says_nothing_more(
    client, make_post, settings
):
    post = make_post()
    data = {"body": "hello", "author_name": "A", "author_email": "a@example.org", "ts": form_timestamp()}
    trap = client.post(post.get_absolute_url(), {**data, "website_confirm": "http://spam.example/x"})
    assert trap.status_code == 400 and "Retry-After" not in trap
    page = trap.content.decode()
    assert "Your comment could not be accepted." in page and "spam.example" not in page
    settings.SERVICEPULSE_BLOG_MIN_FILL_SECONDS = 3
    fast = client.post(post.get_absolute_url(), data)
    assert fast.status_code == 400 and "Retry-After" not in fast
    assert "That was quick" in fast.content.decode()
    assert Comment.objects.count() == 0


def test_a_form_sent_back_with_a_stale_or_forged_timestamp_gets_a_fresh_one(client, make_post, settings):
    post = make_post()
    settings.SERVICEPULSE_BLOG_MIN_FILL_SECONDS = 3
    data = {"body": "hello", "author_name": "A", "author_email": "a@example.org", "ts": "forged"}
    response = client.post(post.get_absolute_url(), data)
    assert response.status_code == 400 and "That was quick" in response.content.decode()
    # Kept, the dead token would make every later attempt "too quick" too: the reader could never send it.
    token = re.search(r'name="ts" value="([^"]*)"', response.content.decode()).group(1)
    assert token != "forged" and elapsed_since(token) is not None
    # A good token comes back unchanged: the fill time still counts from the first render.
    first = form_timestamp()
    response = client.post(post.get_absolute_url(), {**data, "ts": first})
    assert re.search(r'name="ts" value="([^"]*)"', response.content.decode()).group(1) == first


def test_moderation_in_bulk_stores_decisions_and_feeds_mentions(client, users, make_post):
    post = make_post()
    a = comment_submit(post=post, body="The VLE was slow again tonight.", **GUEST)
    b = comment_submit(post=post, body="Great update, thanks!", **{**GUEST, "author_email": "b@example.org"})
    c = comment_submit(post=post, body="visit my site", **{**GUEST, "author_email": "c@example.org"})
    client.force_login(users["viewer"])
    assert client.get("/blog/moderation/").status_code == 403
    client.force_login(users["responder"])
    page = client.get("/blog/moderation/").content.decode()
    assert "The VLE was slow" in page
    response = client.post("/blog/moderation/apply/", {"decision": "approved", "ids": [a.pk, b.pk]})
    assert response.status_code == 302
    client.post("/blog/moderation/apply/", {"decision": "spam", "ids": [c.pk]})
    statuses = dict(Comment.objects.values_list("pk", "status"))
    assert statuses == {a.pk: "approved", b.pk: "approved", c.pk: "spam"}
    decisions = ModerationDecision.objects.order_by("id")
    assert [(d.decision, d.is_spam, d.decided_by.username) for d in decisions] == [
        ("approved", False, "responder"),
        ("approved", False, "responder"),
        ("spam", True, "responder"),
    ]
    assert sorted(moderation_decisions_for_training()) == sorted(
        [
            ("The VLE was slow again tonight.", False),
            ("Great update, thanks!", False),
            ("visit my site", True),
        ]
    )
    mentions = Mention.objects.filter(source__kind="blog").order_by("external_id")
    assert [m.text for m in mentions] == ["The VLE was slow again tonight.", "Great update, thanks!"]
    assert mentions[0].thread_id == f"post-{post.pk}"


def test_threading_respects_the_configured_depth(make_post, settings):
    settings.SERVICEPULSE_BLOG_THREAD_DEPTH = 3
    post = make_post()
    parent = None
    for i in range(5):
        parent = comment_submit(post=post, body=f"level {i}", parent=parent, **GUEST)
        comments_moderate(comment_ids=[parent.pk], decision=Decision.APPROVED, moderator=None)
    depths = list(Comment.objects.order_by("id").values_list("depth", flat=True))
    assert depths == [1, 2, 3, 3, 3]


def test_threaded_comments_render_with_in_reply_to(client, make_post):
    post = make_post()
    top = _approve_someone(post)
    reply = comment_submit(post=post, body="A reply", parent=top, **GUEST)
    html = client.get(post.get_absolute_url()).content.decode()
    assert f'id="comment-{reply.pk}"' in html
    assert (
        f'class="u-in-reply-to" hidden href="{settings.BASE_URL}{post.get_absolute_url()}#comment-{top.pk}"'
        in html
    )
    assert 'class="p-comment h-entry' in html


def test_editing_own_comment_for_fifteen_minutes(client, make_post):
    post = make_post()
    _approve_someone(post)
    response = client.post(
        post.get_absolute_url(),
        {
            "body": "Orignal text",
            "author_name": GUEST["author_name"],
            "author_email": GUEST["author_email"],
            "ts": form_timestamp(),
        },
    )
    comment = Comment.objects.latest("id")
    assert response.status_code == 302 and comment.status == CommentStatus.APPROVED
    assert client.post(f"/blog/comments/{comment.pk}/edit/", {"body": "Original text"}).status_code == 302
    comment.refresh_from_db()
    assert comment.body == "Original text" and comment.edited_at is not None
    other = client.__class__()
    other.post(f"/blog/comments/{comment.pk}/edit/", {"body": "hijacked"})
    comment.refresh_from_db()
    assert comment.body == "Original text"
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    comment.refresh_from_db()
    with pytest.raises(CommentRejected):
        comment_edit(comment=comment, body="too late", user=None, own_ids=[comment.pk])


def test_comments_close_after_n_days(make_post, settings):
    post = make_post(close_comments_after_days=3)
    post.published_at = timezone.now() - timedelta(days=4)
    post.save()
    with pytest.raises(CommentRejected) as closed:
        comment_submit(post=post, body="late", **GUEST)
    assert closed.value.code == "closed"
    settings.SERVICEPULSE_BLOG_CLOSE_COMMENTS_DAYS = 10
    other = make_post(title="Other")
    other.published_at = timezone.now() - timedelta(days=11)
    other.save()
    with pytest.raises(CommentRejected):
        comment_submit(post=other, body="late", **GUEST)


def test_comment_cookie_is_opt_in(client, make_post):
    post = make_post()
    data = {"body": "Hello", "author_name": "Ann", "author_email": "ann@example.org", "ts": form_timestamp()}
    response = client.post(post.get_absolute_url(), data)
    assert (
        "servicepulse_commenter" not in response.cookies
        or not response.cookies["servicepulse_commenter"].value
    )
    response = client.post(post.get_absolute_url(), {**data, "body": "Again", "remember": "on"})
    assert response.cookies["servicepulse_commenter"].value
    page = client.get(post.get_absolute_url()).content.decode()
    assert 'value="ann@example.org"' in page


def test_signed_in_people_comment_without_name_and_email(client, users, make_post):
    post = make_post()
    client.force_login(users["viewer"])
    response = client.post(
        post.get_absolute_url(), {"body": "From a signed-in viewer", "ts": form_timestamp()}
    )
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert comment.user == users["viewer"] and comment.author_name == "viewer"


def test_signed_in_people_are_not_held_to_the_typing_time(client, users, make_post, settings):
    # The leader answering a comment within seconds of opening the post was told "That was quick".
    settings.SERVICEPULSE_BLOG_MIN_FILL_SECONDS = 3
    post = make_post()
    guest = {
        "body": "Fast guest",
        "author_name": "G",
        "author_email": "g@example.org",
        "ts": form_timestamp(),
    }
    assert "That was quick" in client.post(post.get_absolute_url(), guest).content.decode()
    client.force_login(users["admin"])
    response = client.post(post.get_absolute_url(), {"body": "Thanks, fixed now", "ts": form_timestamp()})
    assert response.status_code == 302
    assert list(Comment.objects.values_list("body", flat=True)) == ["Thanks, fixed now"]


def test_reply_notifications_double_opt_in_and_unsubscribe(
    client, make_post, django_capture_on_commit_callbacks
):
    post = make_post()
    with django_capture_on_commit_callbacks(execute=True):
        top = comment_submit(post=post, body="Question about Wi-Fi", notify_replies=True, **GUEST)
    subscription = ReplySubscription.objects.get()
    confirmation = [m for m in mail.outbox if m.to == [GUEST["author_email"]]]
    assert len(confirmation) == 1 and subscription.token in confirmation[0].body
    comments_moderate(comment_ids=[top.pk], decision=Decision.APPROVED, moderator=None)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reply = comment_submit(
            post=post, body="Answer", parent=top, author_name="IT", author_email="it@x.org"
        )
        comments_moderate(comment_ids=[reply.pk], decision=Decision.APPROVED, moderator=None)
    assert not [m for m in mail.outbox if m.to == [GUEST["author_email"]]]  # not confirmed yet: nothing sent
    assert client.get(f"/blog/subscriptions/{subscription.token}/confirm/").status_code == 200
    client.post(f"/blog/subscriptions/{subscription.token}/confirm/")
    with django_capture_on_commit_callbacks(execute=True):
        reply2 = comment_submit(post=post, body="More", parent=top, author_name="IT", author_email="it@x.org")
        comments_moderate(comment_ids=[reply2.pk], decision=Decision.APPROVED, moderator=None)
    notices = [m for m in mail.outbox if m.to == [GUEST["author_email"]]]
    assert len(notices) == 1 and "unsubscribe" in notices[0].body
    one_click = urlsplit(notices[0].extra_headers["List-Unsubscribe"].strip("<>")).path
    assert notices[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert client.post(one_click, {"List-Unsubscribe": "One-Click"}).status_code == 200
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reply3 = comment_submit(
            post=post, body="Even more", parent=top, author_name="IT", author_email="it@x.org"
        )
        comments_moderate(comment_ids=[reply3.pk], decision=Decision.APPROVED, moderator=None)
    assert not [m for m in mail.outbox if m.to == [GUEST["author_email"]]]


def test_reply_notification_confirmations_are_limited_per_recipient(
    make_post, django_capture_on_commit_callbacks
):
    # Security review: only the commenter's address was limited (5 comments per 10 minutes), so senders on many
    # addresses together could have "notify me of replies" confirmations sent to one mailbox without end.
    post = make_post()
    victim = "Victim@Example.ac.uk"
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(7):
            comment_submit(
                post=post,
                body=f"Question {i} about the Wi-Fi",
                author_name="Someone",
                author_email=victim,
                ip_address=f"198.51.100.{i}",
                notify_replies=True,
            )
        comment_submit(
            post=post, body="Another question", notify_replies=True, **{**GUEST, "ip_address": "198.51.100.1"}
        )
    to_victim = [m for m in mail.outbox if m.to == [victim.lower()]]
    assert len(to_victim) == 5
    assert ReplySubscription.objects.filter(email=victim.lower()).count() == 7  # kept, unconfirmed
    assert len([m for m in mail.outbox if m.to == [GUEST["author_email"]]]) == 1  # another recipient's budget


def test_moderators_are_told_of_held_comments(make_post, users, django_capture_on_commit_callbacks):
    users["responder"].email = "desk@northgate.example"
    users["responder"].save()
    post = make_post()
    with django_capture_on_commit_callbacks(execute=True):
        comment_submit(post=post, body="Held, first time", **GUEST)
    assert any(m.to == ["desk@northgate.example"] and "moderate" in m.subject for m in mail.outbox)


def test_akismet_notice_only_when_configured(client, make_post, settings):
    post = make_post()
    assert "Akismet" not in client.get(post.get_absolute_url()).content.decode()
    settings.SERVICEPULSE_AKISMET_KEY = "abc123"
    assert "This site uses Akismet to reduce spam" in client.get(post.get_absolute_url()).content.decode()


def test_spam_after_approval_withdraws_the_mention_and_unsafe_urls_are_dropped(make_post):
    post = make_post()
    comment = comment_submit(post=post, body="Nice", author_url="javascript:alert(1)", **GUEST)
    assert comment.author_url == ""
    comments_moderate(comment_ids=[comment.pk], decision=Decision.APPROVED, moderator=None)
    assert Mention.objects.filter(source__kind="blog").count() == 1
    comments_moderate(comment_ids=[comment.pk], decision=Decision.SPAM, moderator=None)
    assert Mention.objects.filter(source__kind="blog").count() == 0


def test_comments_cannot_carry_images(make_post):
    # The CSP lets https images load for posts; comments must still not be able to show any.
    comment = comment_submit(
        post=make_post(),
        body='Look: ![x](https://example.org/x.png) <img src="https://example.org/y.png">',
        **GUEST,
    )
    assert "<img" not in comment.body_html


def test_moderation_tabs_show_counts_and_the_table_scrolls_on_its_own(client, users, make_post):
    post = make_post()
    _approve_someone(post)
    comment_submit(post=post, body="First question.", **{**GUEST, "author_email": "a@example.org"})
    comment_submit(post=post, body="Second question.", **{**GUEST, "author_email": "b@example.org"})
    client.force_login(users["responder"])
    page = client.get("/blog/moderation/").content.decode()
    tabs = re.search(r'<nav aria-label="Queues">(.*?)</nav>', page, re.S)
    assert tabs is not None
    labels = re.findall(r"<(?:a|strong)[^>]*>([^<]+)</(?:a|strong)>", tabs.group(1))
    assert labels == ["Held for moderation (2)", "Approved (1)", "Spam (0)", "Trash (0)"]
    # A wide table scrolls inside its wrapper, not the whole page, on a phone.
    assert re.search(r'<div class="table-wrap">\s*<table>.*?</table>\s*</div>', page, re.S)


def test_moderation_ignores_ids_that_are_not_plain_numbers(client, users, make_post):
    comment = comment_submit(post=make_post(), body="A question.", **GUEST)
    client.force_login(users["responder"])
    response = client.post("/blog/moderation/apply/", {"decision": "approved", "ids": [str(comment.pk), "²"]})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED


def test_readers_behind_a_trusted_proxy_each_have_their_own_rate_limit(client, make_post, settings):
    """Behind the university's reverse proxy every request comes from the proxy's address: the blog read
    REMOTE_ADDR alone, so one reader over the limit refused everyone's comments."""
    post = make_post()
    settings.SERVICEPULSE_BLOG_RATE_LIMIT = 1
    settings.SERVICEPULSE_TRUSTED_PROXIES = ["10.0.0.5"]
    data = {"body": "Wi-Fi is down in Hopkins", "author_name": "A", "author_email": "a@example.org"}

    def send(forwarded_for: str, body: str) -> int:
        return client.post(
            post.get_absolute_url(),
            {**data, "body": body, "ts": form_timestamp()},
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR=forwarded_for,
        ).status_code

    assert send("198.51.100.7", "first") == 302
    assert send("198.51.100.7", "second") == 429  # the same reader, over the limit
    assert send("203.0.113.9", "another reader") == 302  # someone else behind the same proxy
    assert set(Comment.objects.values_list("ip_address", flat=True)) == {"198.51.100.7", "203.0.113.9"}


def test_comment_and_post_times_say_their_time_zone_as_the_status_page_does(
    client, users, make_post, settings
):
    # A comment read "4 November 2026, 12:00" with no zone (the moderation queue, the drafts list and the post
    # form's "publishes ..." gave a bare time as well), while the status page writes "4 Nov 2026, 12:00 GMT".
    settings.TIME_ZONE = "Europe/London"
    post = make_post()
    winter = _approve_someone(post)
    summer = comment_submit(post=post, body="And the Wi-Fi?", **GUEST)
    Comment.objects.filter(pk=winter.pk).update(created_at=datetime(2026, 11, 4, 12, 0, tzinfo=UTC))
    Comment.objects.filter(pk=summer.pk).update(created_at=datetime(2026, 7, 4, 11, 0, tzinfo=UTC))
    page = client.get(post.get_absolute_url()).content.decode()
    assert ">4 Nov 2026, 12:00 GMT</time>" in page
    assert ">4 Jul 2026, 12:00 BST</time>" in page
    client.force_login(users["admin"])
    held = comment_submit(post=post, body="A first comment.", author_name="New", author_email="n@example.org")
    Comment.objects.filter(pk=held.pk).update(created_at=datetime(2026, 11, 4, 12, 0, tzinfo=UTC))
    assert "4 Nov 2026, 12:00 GMT" in client.get("/blog/moderation/").content.decode()
    draft = make_post(title="Clearing", publish=False)
    draft.publish_at = datetime(2030, 7, 15, 8, 0, tzinfo=UTC)
    draft.save()
    assert (
        "publishes 15 Jul 2030, 09:00 BST" in client.get(f"/blog/posts/{draft.slug}/edit/").content.decode()
    )
    assert "15 Jul 2030, 09:00 BST" in client.get("/blog/drafts/").content.decode()
