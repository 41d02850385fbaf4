"""`servicepulse erase-author` reaches the blog: the erased person's comments go too, those behind their posts
and those that never became posts (held, spam, trashed)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from servicepulse.blog.models import (
    Comment,
    CommentStatus,
    Decision,
    ModerationDecision,
    ReplySubscription,
    WordListKind,
)
from servicepulse.blog.services import (
    comment_from_elsewhere,
    comment_submit,
    comments_moderate,
    subscription_request,
    word_list_set,
)
from servicepulse.mentions.models import Mention
from servicepulse.sources.models import SourceKind
from tests.factories import MentionFactory, SourceFactory

pytestmark = pytest.mark.django_db

SAM = {
    "author_name": "Sam Okafor",
    "author_email": "Sam@Students.Northgate.example",
    "ip_address": "192.0.2.10",
}
ALEX = {"author_name": "Alex Reed", "author_email": "alex@example.org", "ip_address": "192.0.2.20"}


def _approved(post, body, who, **kw):
    comment = comment_submit(post=post, body=body, user_agent="Firefox/140", **who, **kw)
    comments_moderate(comment_ids=[comment.pk], decision=Decision.APPROVED, moderator=None)
    comment.refresh_from_db()
    return comment


def test_erasing_a_commenter_deletes_their_comments_and_subscriptions(make_post):
    post = make_post()
    theirs = _approved(post, "The VLE was slow again tonight.", SAM, notify_replies=True)
    others = _approved(post, "Same here in the library.", ALEX)
    assert ReplySubscription.objects.filter(comment=theirs).exists()
    assert ModerationDecision.objects.filter(comment=theirs).exists()

    call_command("erase_author", "Sam Okafor", yes=True)

    assert list(Comment.objects.values_list("pk", flat=True)) == [others.pk]
    assert not ReplySubscription.objects.exists()
    # The moderation log's copy (kept for spam training) of their words and address goes with it.
    assert not ModerationDecision.objects.filter(author_name="Sam Okafor").exists()
    assert not ModerationDecision.objects.filter(text__contains="VLE").exists()
    assert list(Mention.objects.values_list("author", flat=True)) == ["Alex Reed"]


def test_a_comment_with_replies_stays_in_its_thread_as_erased(client, make_post):
    post = make_post()
    theirs = _approved(post, "Eduroam keeps dropping in Block C.", SAM, notify_replies=True)
    their_reply = _approved(post, "It dropped again at 3pm.", SAM, parent=theirs)
    answer = _approved(post, "Thanks, we have raised it with the network team.", ALEX, parent=their_reply)
    subscription_request(comment=theirs, email=ALEX["author_email"])  # someone else's wish stays theirs

    call_command("erase_author", SAM["author_email"].lower(), yes=True)  # by the platform id (their e-mail)

    for comment in (theirs, their_reply):
        comment.refresh_from_db()
        assert comment.status == CommentStatus.APPROVED
        assert (comment.author_name, comment.body, comment.author_email) == ("[erased]", "[erased]", "")
        assert (comment.author_url, comment.ip_address, comment.user_agent) == ("", None, "")
        assert "Eduroam" not in comment.body_html and "dropped" not in comment.body_html
    answer.refresh_from_db()
    assert answer.parent_id == their_reply.pk and answer.author_name == "Alex Reed"
    assert list(ReplySubscription.objects.values_list("email", flat=True)) == [ALEX["author_email"]]
    assert not ModerationDecision.objects.filter(author_name="Sam Okafor").exists()
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Sam Okafor" not in page and "Eduroam" not in page
    assert "[erased]" in page and "raised it with the network team" in page
    # The placeholder never comes back as a post, even if a moderator approves it again.
    comments_moderate(comment_ids=[theirs.pk], decision=Decision.SPAM, moderator=None)
    comments_moderate(comment_ids=[theirs.pk], decision=Decision.APPROVED, moderator=None)
    assert not Mention.objects.filter(source__kind=SourceKind.BLOG, author="[erased]").exists()


def test_only_the_comment_a_post_came_from_is_erased(make_post):
    post = make_post()
    comment = comment_submit(post=post, body="A comment by someone else.", **ALEX)
    # The demo's blog channel: the generator's chatter carries `comment-<n>` ids of its own, one of which
    # may be this comment's id (then the comment's own post is a duplicate and not stored).
    demo = SourceFactory(kind=SourceKind.BLOG, name="Northgate IT blog")
    MentionFactory(source=demo, external_id=f"comment-{comment.pk}", author="Jo Park", thread_id="")
    comments_moderate(comment_ids=[comment.pk], decision=Decision.APPROVED, moderator=None)

    call_command("erase_author", "Jo Park", yes=True)

    comment.refresh_from_db()
    assert (comment.author_name, comment.body) == ("Alex Reed", "A comment by someone else.")


def test_a_reply_brought_back_from_a_network_is_erased_with_the_post_it_came_from(make_post):
    post = make_post()
    network = SourceFactory(kind=SourceKind.MASTODON, name="mastodon")
    reply = MentionFactory(
        source=network, external_id="1122", author="@sam@mastodon.social", text="Still down"
    )
    comment, _ = comment_from_elsewhere(
        post=post,
        key=f"backfeed:{network.pk}:{reply.external_id}",
        body=reply.text,
        author_name=reply.author,
        source_url="https://mastodon.social/@sam/1122",
    )
    kept, _ = comment_from_elsewhere(
        post=post, key=f"backfeed:{network.pk}:3344", body="Fine here", author_name="@alex@mastodon.social"
    )

    assert comment.source_url == "https://mastodon.social/@sam/1122"

    call_command("erase_author", "@sam@mastodon.social", yes=True)

    assert list(Comment.objects.values_list("pk", flat=True)) == [kept.pk]


def _erase(*args, **options):
    out = StringIO()
    call_command("erase_author", *args, yes=True, stdout=out, **options)
    return out.getvalue()


def test_their_held_spam_and_trashed_comments_go_too_matched_by_email_in_any_case(make_post):
    post = make_post()
    word_list_set(kind=WordListKind.BLOCKLIST, terms=["casino"])
    held = comment_submit(post=post, body="Is the VLE down for everyone?", **SAM, notify_replies=True)
    spam = comment_submit(
        post=post, body="casino night in halls", **{**SAM, "author_email": "SAM@students.northgate.EXAMPLE"}
    )
    trashed = comment_submit(post=post, body="Ignore my last comment.", **{**SAM, "author_name": "S. Okafor"})
    comments_moderate(comment_ids=[trashed.pk], decision=Decision.TRASH, moderator=None)
    alex_held = comment_submit(post=post, body="Same on my laptop.", **ALEX, notify_replies=True)
    alex_spam = comment_submit(post=post, body="casino tips", **ALEX)
    subscription_request(comment=alex_held, email=SAM["author_email"])  # their wish to hear of Alex's replies
    # The moderation log's copy of a comment of theirs that is gone already (a removed linkback, say).
    ModerationDecision.objects.create(
        decision=Decision.SPAM,
        is_spam=True,
        previous_status=CommentStatus.PENDING,
        kind="comment",
        text="old words",
        author_name="Sam",
        author_email="sam@students.northgate.example",
    )
    assert (held.status, spam.status) == (CommentStatus.PENDING, CommentStatus.SPAM)
    assert not Mention.objects.exists()  # none of them ever became a post

    out = _erase("sam@students.northgate.example")

    assert set(Comment.objects.values_list("pk", flat=True)) == {alex_held.pk, alex_spam.pk}
    alex_held.refresh_from_db()
    assert (alex_held.author_name, alex_held.body) == ("Alex Reed", "Same on my laptop.")
    assert list(ReplySubscription.objects.values_list("email", flat=True)) == [ALEX["author_email"]]
    assert not ModerationDecision.objects.filter(author_email__iexact=SAM["author_email"]).exists()
    assert "blog comments deleted: 3" in out


def test_erased_by_name_their_comments_under_the_address_their_posts_carry_go_too(make_post):
    post = make_post()
    answered = comment_submit(post=post, body="Wifi fixed?", **SAM)  # held: a first-time commenter
    alex_answer = _approved(post, "Fixed this morning.", ALEX, parent=answered)
    other_name = comment_submit(post=post, body="Sorry, typo above.", **{**SAM, "author_name": "Sam O."})
    theirs = _approved(post, "Eduroam keeps dropping in Block C.", SAM)  # became a post, with their e-mail
    links = "Again: https://status.example/1 and https://status.example/2"
    their_reply = comment_submit(post=post, body=links, **SAM, parent=theirs)  # held for its links
    namesake = comment_submit(
        post=post, body="Different Sam.", **{**SAM, "author_email": "sam@other.example"}
    )
    held = [answered, other_name, their_reply, namesake]
    assert {comment.status for comment in held} == {CommentStatus.PENDING}

    out = _erase("Sam Okafor")

    remaining = set(Comment.objects.values_list("pk", flat=True))
    # Their held reply no longer keeps their approved comment in the thread: both go, in one pass.
    assert theirs.pk not in remaining and their_reply.pk not in remaining and other_name.pk not in remaining
    answered.refresh_from_db()  # someone answered it: it stays, erased, like a comment that became a post
    assert answered.status == CommentStatus.PENDING
    assert (answered.author_name, answered.body, answered.author_email) == ("[erased]", "[erased]", "")
    assert alex_answer.pk in remaining
    # Another person with the same name is erased too (names are matched as posts' are), but only by name.
    assert namesake.pk not in remaining
    assert "blog comments deleted: 4" in out
    assert 'blog comments left as "[erased]" in their thread: 1' in out


def test_an_erasure_limited_to_another_source_leaves_their_unposted_comments(make_post):
    post = make_post()
    held = comment_submit(post=post, body="Is the VLE down for everyone?", **SAM)
    network = SourceFactory(kind=SourceKind.MASTODON, name="mastodon")
    MentionFactory(source=network, author="Sam Okafor")

    out = _erase("Sam Okafor", source="mastodon")

    assert "erased 1 posts by Sam Okafor" in out
    assert Comment.objects.filter(pk=held.pk, author_name="Sam Okafor").exists()
    blog = SourceFactory(kind=SourceKind.BLOG, name="Blog comments")
    _erase("Sam Okafor", source=blog.name)
    assert not Comment.objects.filter(pk=held.pk).exists()


def test_export_author_lists_what_an_erasure_would_reach_on_the_blog(make_post):
    """A subject access request sees their comments (with the e-mail and IP address they were sent with),
    their reply subscriptions and the moderation log's copies; a namesake's comment elsewhere is not theirs
    unless the name matches, and another person's never is."""
    import json

    post = make_post()
    approved = _approved(post, "The VLE was down for me too.", SAM, notify_replies=True)
    held = comment_submit(
        post=post, body="Is the VLE down for everyone?", **{**SAM, "author_name": "S. Okafor"}
    )
    comments_moderate(comment_ids=[held.pk], decision=Decision.SPAM, moderator=None)
    comment_submit(post=post, body="Same on my laptop.", **ALEX)
    out = StringIO()

    call_command("export_author", "sam@students.northgate.example", stdout=out)

    blog = json.loads(out.getvalue())["elsewhere"]
    assert [c["body"] for c in blog["blog comments"]] == [approved.body, held.body]
    assert {c["ip_address"] for c in blog["blog comments"]} == {"192.0.2.10"}
    assert blog["blog comments"][1]["status"] == CommentStatus.SPAM
    assert [s["post"] for s in blog["blog reply subscriptions"]] == [post.title]
    assert {d["decision"] for d in blog["blog moderation log"]} == {Decision.APPROVED, Decision.SPAM}
    assert "Alex" not in out.getvalue() and "alex@example.org" not in out.getvalue()
    assert "token" not in json.dumps(blog["blog reply subscriptions"])


def test_commenters_addresses_are_forgotten_after_the_retention_period(make_post, settings):
    from datetime import timedelta

    from django.utils import timezone

    from servicepulse.blog.services import comments_forget_addresses
    from servicepulse.core.scheduler import periodic_jobs

    settings.SERVICEPULSE_BLOG_IP_RETENTION_DAYS = 60
    post = make_post()
    old = _approved(post, "The VLE was down for me too.", SAM)
    recent = _approved(post, "Same on my laptop.", ALEX)
    Comment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=61))
    ModerationDecision.objects.filter(comment=old).update(decided_at=timezone.now() - timedelta(days=61))

    assert comments_forget_addresses() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.ip_address, old.user_agent) == (None, "")
    assert (recent.ip_address, recent.user_agent) == ("192.0.2.20", "Firefox/140")
    assert ModerationDecision.objects.get(comment=old).ip_address is None
    assert ModerationDecision.objects.get(comment=recent).ip_address == "192.0.2.20"
    assert old.body == "The VLE was down for me too." and old.author_email  # the comment itself stays
    assert comments_forget_addresses() == 0  # nothing left to forget
    settings.SERVICEPULSE_BLOG_IP_RETENTION_DAYS = 0
    Comment.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=400))
    assert comments_forget_addresses() == 0  # 0 keeps them
    assert "blog.forget_addresses" in {job.name for job in periodic_jobs()}
