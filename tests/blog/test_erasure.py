"""`servicepulse erase-author` reaches the blog: the comments behind the erased person's posts go too."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from servicepulse.blog.models import Comment, CommentStatus, Decision, ModerationDecision, ReplySubscription
from servicepulse.blog.services import (
    comment_from_elsewhere,
    comment_submit,
    comments_moderate,
    subscription_request,
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
