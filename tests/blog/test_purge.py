"""The nightly purge: spam and trash, the Webmention log and unconfirmed reply subscriptions do not pile up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from servicepulse.blog.models import (
    Comment,
    CommentStatus,
    Decision,
    ModerationDecision,
    ReplySubscription,
    WebmentionRequest,
)
from servicepulse.blog.services import blog_purge, comment_submit, comments_moderate, subscription_request
from servicepulse.core.scheduler import periodic_jobs

pytestmark = pytest.mark.django_db

WHO = {"author_name": "Casino Bot", "author_email": "bot@spam.example", "ip_address": "192.0.2.66"}


def _comment(post, body, status, *, days_old, parent=None):
    comment = comment_submit(post=post, body=body, user_agent="bot/1", parent=parent, **WHO)
    if status != comment.status:
        comments_moderate(comment_ids=[comment.pk], decision=status, moderator=None)
    past = timezone.now() - timedelta(days=days_old)
    Comment.objects.filter(pk=comment.pk).update(created_at=past)
    ModerationDecision.objects.filter(comment=comment).update(decided_at=past)
    comment.refresh_from_db()
    return comment


def test_old_spam_trash_webmentions_and_unconfirmed_subscriptions_are_deleted(make_post, settings):
    settings.SERVICEPULSE_BLOG_PURGE_DAYS = 30
    post = make_post()
    old_spam = _comment(post, "Cheap pills at example.com", Decision.SPAM, days_old=45)
    old_trash = _comment(post, "asdf", Decision.TRASH, days_old=31)
    caught = Comment.objects.create(  # caught by the filters: no moderator decision at all
        post=post, author_name="Bot", body="Win big", status=CommentStatus.SPAM
    )
    Comment.objects.filter(pk=caught.pk).update(created_at=timezone.now() - timedelta(days=90))
    recent_spam = _comment(post, "More pills", Decision.SPAM, days_old=5)
    approved = _comment(post, "The VLE was down for me too.", Decision.APPROVED, days_old=400)
    # Trashed long ago but looked at again (moved to trash) last week: the moderator still has time.
    rethought = _comment(post, "Maybe not spam", Decision.TRASH, days_old=60)
    comments_moderate(comment_ids=[rethought.pk], decision=Decision.SPAM, moderator=None)
    # A spam comment someone answered: the answer would go with it, so it stays.
    answered = _comment(post, "Is the library open?", Decision.SPAM, days_old=50)
    answer = _comment(post, "Yes, until 10pm.", Decision.APPROVED, days_old=49, parent=answered)
    # Spam under spam, both old: both go.
    spam_parent = _comment(post, "Buy now", Decision.SPAM, days_old=40)
    spam_child = _comment(post, "Buy more", Decision.SPAM, days_old=40, parent=spam_parent)

    old_request = WebmentionRequest.objects.create(
        source="https://spam.example/a", target="https://blog.example/p", post=post, state="rejected"
    )
    WebmentionRequest.objects.filter(pk=old_request.pk).update(
        received_at=timezone.now() - timedelta(days=31)
    )
    new_request = WebmentionRequest.objects.create(
        source="https://friend.example/b", target="https://blog.example/p", post=post
    )
    never_confirmed = subscription_request(comment=approved, email="someone@example.org")
    confirmed = subscription_request(comment=approved, email="reader@example.org")
    ReplySubscription.objects.filter(pk=confirmed.pk).update(confirmed_at=timezone.now() - timedelta(days=99))
    ReplySubscription.objects.filter(pk__in=[never_confirmed.pk, confirmed.pk]).update(
        created_at=timezone.now() - timedelta(days=100)
    )
    pending_recent = subscription_request(comment=approved, email="late@example.org")
    left = subscription_request(comment=approved, email="left@example.org")
    ReplySubscription.objects.filter(pk=left.pk).update(
        confirmed_at=timezone.now() - timedelta(days=200), unsubscribed_at=timezone.now() - timedelta(days=31)
    )
    decisions_before = ModerationDecision.objects.count()

    purged = blog_purge()

    gone = {old_spam.pk, old_trash.pk, caught.pk, spam_parent.pk, spam_child.pk}
    assert purged.comments == len(gone)
    assert not Comment.objects.filter(pk__in=gone).exists()
    kept = {recent_spam.pk, approved.pk, rethought.pk, answered.pk, answer.pk}
    assert set(Comment.objects.values_list("pk", flat=True)) == kept
    # The moderation log's copies, the spam head's training data, outlive the comments.
    assert ModerationDecision.objects.count() == decisions_before
    assert list(WebmentionRequest.objects.values_list("pk", flat=True)) == [new_request.pk]
    assert purged.webmention_requests == 1
    assert set(ReplySubscription.objects.values_list("pk", flat=True)) == {confirmed.pk, pending_recent.pk}
    assert purged.subscriptions == 2  # never confirmed, and ended a month ago
    assert blog_purge().comments == 0  # nothing more to do


def test_purge_days_zero_keeps_everything(make_post, settings):
    settings.SERVICEPULSE_BLOG_PURGE_DAYS = 0
    post = make_post()
    _comment(post, "Cheap pills", Decision.SPAM, days_old=400)

    assert blog_purge().comments == 0
    assert Comment.objects.count() == 1


def test_purge_runs_every_night():
    jobs = {job.name: job for job in periodic_jobs()}
    assert "blog.purge_old" in jobs
