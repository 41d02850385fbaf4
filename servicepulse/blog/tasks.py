"""Background work for the blog. Thin: take ids, re-read rows, tolerate them being gone, call a service."""

from __future__ import annotations

from django_tasks import task

from servicepulse.blog.models import Comment, Post, ReplySubscription, WebmentionRequest


@task()
def publish_due_posts() -> int:
    from servicepulse.blog.services import posts_publish_due

    return len(posts_publish_due())


@task()
def forget_addresses() -> int:
    from servicepulse.blog.services import comments_forget_addresses

    return comments_forget_addresses()


@task()
def purge_old() -> int:
    from servicepulse.blog.services import blog_purge

    purged = blog_purge()
    return purged.comments + purged.webmention_requests + purged.subscriptions


@task()
def send_linkbacks(post_id: int) -> int:
    from servicepulse.blog.linkbacks.sending import linkbacks_send

    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        return 0
    return len(linkbacks_send(post=post))


@task()
def verify_webmention(request_id: int) -> str:
    from servicepulse.blog.linkbacks.webmention import webmention_verify

    request = WebmentionRequest.objects.select_related("post").filter(pk=request_id).first()
    if request is None:
        return "gone"
    return webmention_verify(request=request)


@task()
def notify_moderators(comment_id: int) -> int:
    from servicepulse.blog.services import moderators_notify

    comment = Comment.objects.select_related("post").filter(pk=comment_id).first()
    return moderators_notify(comment=comment) if comment else 0


@task()
def notify_reply_subscribers(comment_id: int) -> int:
    from servicepulse.blog.services import reply_notify_subscribers

    comment = Comment.objects.select_related("post").filter(pk=comment_id).first()
    return reply_notify_subscribers(comment=comment) if comment else 0


@task()
def send_subscription_confirmation(subscription_id: int) -> bool:
    from servicepulse.blog.services import subscription_send_confirmation

    subscription = (
        ReplySubscription.objects.select_related("comment__post").filter(pk=subscription_id).first()
    )
    if subscription is None or subscription.confirmed_at is not None:
        return False
    subscription_send_confirmation(subscription=subscription)
    return True
