"""Backfeed: replies and quotes of the copies come back as blog comments held for moderation; a reply the
leader writes on the blog to such a comment can be posted back through the connector's `reply()`.

Replies and quotes arrive as ordinary mentions through the connectors' pulls and streams: a mention whose
`in_reply_to` or `thread_id` is a copy's remote id (or, for quotes, whose payload quotes it). Each source's
mentions are scanned once, in id order, from a cursor.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from servicepulse.blog.models import Comment
from servicepulse.blog.services import comment_from_elsewhere
from servicepulse.mentions.models import Mention
from servicepulse.publish.crosspost import UNKNOWN_OUTCOME_WAIT
from servicepulse.publish.models import (
    Backfeed,
    BackfeedCursor,
    BackfeedKind,
    CrossPost,
    CrossPostState,
    PostBack,
    PostBackState,
)
from servicepulse.publish.networks import NETWORKS
from servicepulse.sources.models import Source
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown, SendKey, connector_for

SCAN_BATCH = 2000
MAX_POSTBACK_TRIES = 5  # a post-back the network asked to wait for, or did not answer, is tried this often


def sources_with_copies() -> list[int]:
    return list(
        CrossPost.objects.filter(state=CrossPostState.SENT, source__isnull=False)
        .values_list("source_id", flat=True)
        .distinct()
    )


def _quoted(network: str, raw: dict) -> list[str]:  # type: ignore[type-arg]
    module = NETWORKS[network].module() if network in NETWORKS else None
    finder = getattr(module, "quoted_ids", None)
    return finder(raw) if finder and isinstance(raw, dict) else []


def backfeed_scan(*, source: Source) -> int:
    """Look at this source's mentions not yet seen for replies and quotes of its copies; each becomes a blog
    comment held for moderation, threaded under the comment it answers when that one came back too.
    Returns how many comments were created."""
    copies = {
        c.remote_id: c
        for c in CrossPost.objects.filter(source=source, state=CrossPostState.SENT).select_related("post")
    }
    cursor, _ = BackfeedCursor.objects.get_or_create(source=source)
    mentions = list(
        Mention.objects.filter(source=source, id__gt=cursor.last_mention_id).order_by("id")[:SCAN_BATCH]
    )
    if not mentions:
        return 0
    own = set(PostBack.objects.filter(backfeed__crosspost__source=source).values_list("remote_id", flat=True))
    created = 0
    for mention in mentions:
        if mention.external_id in copies or mention.external_id in own:
            continue  # the copy itself, or our own answer, seen through a hashtag or search feed
        copy, kind = _copy_of(mention, copies, network=source.kind)
        if copy is None or copy.post is None or Backfeed.objects.filter(mention=mention).exists():
            continue
        with transaction.atomic():
            parent = (
                Comment.objects.filter(
                    backfeed__mention__source=source, backfeed__mention__external_id=mention.in_reply_to
                ).first()
                if mention.in_reply_to and mention.in_reply_to != copy.remote_id
                else None
            )
            comment, new = comment_from_elsewhere(
                post=copy.post,
                key=f"backfeed:{source.pk}:{mention.external_id}",
                body=mention.text,
                author_name=_author_name(mention),
                author_url=_profile_url(mention),
                source_url=mention.url,
                created_at=mention.created_at,
                parent=parent,
            )
            Backfeed.objects.create(crosspost=copy, mention=mention, comment=comment, kind=kind)
            created += int(new)
    BackfeedCursor.objects.filter(pk=cursor.pk).update(last_mention_id=mentions[-1].pk)
    return created


def _copy_of(mention: Mention, copies: dict[str, CrossPost], *, network: str) -> tuple[CrossPost | None, str]:
    for ref in (mention.in_reply_to, mention.thread_id):
        if ref and ref in copies:
            return copies[ref], BackfeedKind.REPLY
    # A reply to a reply that came back earlier belongs to the same copy.
    if mention.in_reply_to:
        earlier = (
            Backfeed.objects.filter(
                mention__source_id=mention.source_id, mention__external_id=mention.in_reply_to
            )
            .select_related("crosspost__post")
            .first()
        )
        if earlier is not None:
            return earlier.crosspost, BackfeedKind.REPLY
    for ref in _quoted(network, mention.raw or {}):
        if ref in copies:
            return copies[ref], BackfeedKind.QUOTE
    return None, ""


def _account(mention: Mention) -> dict:  # type: ignore[type-arg]
    """The author's account object where the payload carries one (Mastodon statuses and notifications)."""
    raw = mention.raw or {}
    status = raw.get("status") if isinstance(raw.get("status"), dict) else raw
    account = status.get("account") if isinstance(status, dict) else None
    return account if isinstance(account, dict) else {}


def _profile_url(mention: Mention) -> str:
    return str(_account(mention).get("url") or "")


def _author_name(mention: Mention) -> str:
    name = str(_account(mention).get("display_name") or "").strip()
    return name or mention.author or "someone"


# -- posting a blog reply back -------------------------------------------------------------------------------


def postback_origin(*, comment: Comment) -> Backfeed | None:
    """The backfed comment a blog reply answers, when it answers one."""
    if comment.parent_id is None:
        return None
    return Backfeed.objects.select_related("mention__source").filter(comment_id=comment.parent_id).first()


def postback_request(*, comment: Comment) -> PostBack:
    """Queue posting `comment` (an approved blog reply to a backfed comment) to the network it came from."""
    from servicepulse.blog.models import CommentStatus

    origin = postback_origin(comment=comment)
    if origin is None:
        raise ValueError("this comment does not answer a reply that came from a social network")
    if origin.mention is None:
        raise ValueError("that reply came without its post from the network, so it cannot be answered there")
    if comment.status != CommentStatus.APPROVED:
        raise ValueError("only an approved reply is posted back")
    postback, _ = PostBack.objects.get_or_create(comment=comment, defaults={"backfeed": origin})
    if postback.state == PostBackState.SENT:
        return postback
    PostBack.objects.filter(pk=postback.pk).update(state=PostBackState.QUEUED, error="")
    postback.state = PostBackState.QUEUED
    from servicepulse.publish.tasks import postback_send_task

    postback_id = postback.pk
    transaction.on_commit(lambda: postback_send_task.enqueue(postback_id))
    return postback


def postback_send(*, postback_id: int) -> PostBack | None:
    """Post the reply through the connector's `reply()` (which adds the @-mention where the network wants it)."""
    postback = (
        PostBack.objects.select_related("comment", "backfeed__mention__source").filter(pk=postback_id).first()
    )
    if postback is None or postback.state != PostBackState.QUEUED:
        return postback
    mention = postback.backfeed.mention
    if mention is None:
        return postback
    postback.attempts += 1
    postback.first_tried_at = postback.first_tried_at or timezone.now()
    # Named after the row on every try, so a try after a timeout does not post the reply twice (SendKey).
    key = SendKey(
        name=f"servicepulse-postback-{postback.pk}",
        first_try=postback.first_tried_at,
        retry=postback.attempts > 1,
    )
    try:
        result = connector_for(mention.source).reply(mention=mention, text=postback.comment.body, key=key)
    except ConnectorError as exc:
        postback.error = str(exc)
        wait: timedelta | None = None
        if postback.attempts < MAX_POSTBACK_TRIES:
            if isinstance(exc, OutcomeUnknown):
                wait = UNKNOWN_OUTCOME_WAIT * postback.attempts
            elif exc.retry_after is not None:
                wait = timedelta(seconds=max(1.0, exc.retry_after))
        if wait is not None:
            from servicepulse.publish.tasks import postback_send_task

            postback.save(update_fields=["error", "attempts", "first_tried_at"])
            postback_send_task.using(run_after=timezone.now() + wait).enqueue(postback.pk)
            return postback
        postback.state = PostBackState.FAILED
        postback.save(update_fields=["state", "error", "attempts", "first_tried_at"])
        return postback
    postback.state = PostBackState.SENT
    postback.remote_id = result.external_id
    postback.remote_url = result.url
    postback.error = ""
    postback.sent_at = timezone.now()
    postback.save(
        update_fields=["state", "remote_id", "remote_url", "error", "attempts", "first_tried_at", "sent_at"]
    )
    return postback
