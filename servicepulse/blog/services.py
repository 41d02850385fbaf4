"""Writing the blog: posts, comments, moderation, linkbacks received, reply subscriptions.

Views, tasks, commands and other apps call these; they hold the rules. Other apps: `post_create_draft`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import EllipsisType

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.mail import EmailMessage, send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from servicepulse.accounts.roles import Role, has_role
from servicepulse.blog.conf import blog_setting
from servicepulse.blog.markup import count_links, render_comment, render_markdown
from servicepulse.blog.models import (
    Comment,
    CommentKind,
    CommentStatus,
    Decision,
    ModerationDecision,
    Post,
    PostStatus,
    ReplySubscription,
    Tag,
    WebmentionRequest,
    WordListEntry,
    WordListKind,
)
from servicepulse.blog.selectors import ERASED, comment_is_erased, comments_of_author, site_url
from servicepulse.blog.spam import (
    Candidate,
    akismet_report,
    rate_limit_retry_after,
    spam_verdict,
    word_list_match,
)
from servicepulse.core.http import safe_url
from servicepulse.core.ratelimit import rate_limit_hit

logger = logging.getLogger(__name__)

RESERVED_SLUGS = {"feed", "rss", "new", "edit", "drafts"}
BLOG_SOURCE_NAME = "Blog comments"
# Reply-notification confirmation e-mails per recipient per 10 minutes, as the status page's subscriptions: the
# per-address comment limit alone let senders on many addresses together flood one mailbox with confirmations.
CONFIRM_LIMIT = 5
CONFIRM_WINDOW_SECONDS = 600
PURGE_BATCH = 500
# What an erased person's comment says, and who wrote it, when replies keep it in its thread.


class CommentRejected(Exception):
    """A comment refused before it is stored (closed, honeypot, too fast, rate limit, malformed).

    `retry_after` is set for the rate limit only: the seconds (whole minutes) until the address may send
    again, which the page says and puts in its Retry-After header."""

    def __init__(self, message: str, *, code: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


# ---------------------------------------------------------------------------------------------- posts


def _slug_base(text: str, *, fallback: str, length: int) -> str:
    """`text`'s Latin letters and digits as a slug; a text with none (Chinese, Arabic, only symbols) gets
    `fallback` and a digest of the text. The digest, not a running number: the same text always asks for the
    same slug, and a deleted row's number cannot pass to another title (its links and feed ids with it)."""
    return slugify(text)[:length] or f"{fallback}-{hashlib.sha256(text.casefold().encode()).hexdigest()[:8]}"


def _free_slug(base: str, taken: Callable[[str], bool]) -> str:
    slug, n = base, 2
    while taken(slug):
        slug, n = f"{base}-{n}", n + 1
    return slug


def _unique_slug(title: str, *, wanted: str = "") -> str:
    """A free slug for a new post: `wanted` when it is one (a WordPress export's may be percent-encoded Chinese,
    which no post URL can carry), else from the title; `-2`, `-3`, ... when taken. Only at creation: a post
    keeps its address when its title changes (links, feed ids and linkbacks point at it)."""
    wanted = wanted[:180] if wanted and slugify(wanted) == wanted else ""
    base = wanted or _slug_base(title, fallback="post", length=180)
    if base in RESERVED_SLUGS:
        base = f"{base}-post"
    return _free_slug(base, lambda slug: Post.objects.filter(slug=slug).exists())


def tags_set(*, post: Post, names: Iterable[str]) -> list[Tag]:
    """Give `post` exactly these tags (created when new, each with a slug of its own)."""
    tags: list[Tag] = []
    for raw in names:
        name = raw.strip()[:100]
        if not name:
            continue
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            # Never get_or_create by slug: "C++" and "C", or two Chinese names, would share one tag.
            base = _slug_base(name, fallback="tag", length=90)
            slug = _free_slug(base, lambda slug: Tag.objects.filter(slug=slug).exists())
            tag = Tag.objects.create(name=name, slug=slug)
        tags.append(tag)
    post.tags.set(tags)
    return tags


@transaction.atomic
def post_create(
    *,
    title: str,
    body_markdown: str,
    author: User | None,
    tags: Sequence[str] = (),
    excerpt: str = "",
    comments_enabled: bool = True,
    close_comments_after_days: int | None = None,
    slug: str = "",
) -> Post:
    """Create a draft post. Publish it with `post_publish`."""
    if not title.strip():
        raise ValueError("a post needs a title")
    now = timezone.now()
    post = Post.objects.create(
        title=title.strip()[:300],
        slug=slug or _unique_slug(title),
        author=author,
        body_markdown=body_markdown,
        body_html=render_markdown(body_markdown),
        excerpt=excerpt,
        comments_enabled=comments_enabled,
        close_comments_after_days=close_comments_after_days,
        created_at=now,
        updated_at=now,
    )
    tags_set(post=post, names=tags)
    return post


def post_create_draft(*, title: str, body_markdown: str, author: User | None) -> Post:
    """Public entry point for other apps (engage's "You said, we did"): a draft for an admin to finish."""
    return post_create(title=title, body_markdown=body_markdown, author=author)


@transaction.atomic
def post_update(
    *,
    post: Post,
    title: str | None = None,
    body_markdown: str | None = None,
    tags: Sequence[str] | None = None,
    excerpt: str | None = None,
    comments_enabled: bool | None = None,
    close_comments_after_days: int | EllipsisType | None = ...,
) -> Post:
    """Change a post; a published post's change is announced again to the pages it links (linkbacks)."""
    if title is not None:
        post.title = title.strip()[:300]
    if body_markdown is not None:
        post.body_markdown = body_markdown
        post.body_html = render_markdown(body_markdown)
    if excerpt is not None:
        post.excerpt = excerpt
    if comments_enabled is not None:
        post.comments_enabled = comments_enabled
    if not isinstance(close_comments_after_days, EllipsisType):
        post.close_comments_after_days = close_comments_after_days
    post.updated_at = timezone.now()
    post.save()
    if tags is not None:
        tags_set(post=post, names=tags)
    if post.is_published:
        _enqueue_linkbacks(post)
    return post


def _enqueue_linkbacks(post: Post) -> None:
    from servicepulse.blog.tasks import send_linkbacks

    post_id = post.pk
    transaction.on_commit(lambda: send_linkbacks.enqueue(post_id))


@transaction.atomic
def post_publish(*, post: Post, at: datetime | None = None) -> Post:
    """Publish now, or schedule for `at` (a future, timezone-aware time); the scheduler publishes it then."""
    now = timezone.now()
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise ValueError("publish time has no time zone")
    if at is not None and at > now:
        post.status = PostStatus.SCHEDULED
        post.publish_at = at
        post.save(update_fields=["status", "publish_at"])
        return post
    post.status = PostStatus.PUBLISHED
    post.published_at = post.published_at or at or now
    post.publish_at = None
    post.updated_at = now
    post.save(update_fields=["status", "published_at", "publish_at", "updated_at"])
    _enqueue_linkbacks(post)
    return post


def post_unpublish(*, post: Post) -> Post:
    """Back to draft (hidden from readers, feeds and linkback endpoints)."""
    post.status = PostStatus.DRAFT
    post.publish_at = None
    post.save(update_fields=["status", "publish_at"])
    return post


def posts_publish_due(*, now: datetime | None = None) -> list[int]:
    """Publish every scheduled post whose time has come. Returns their ids."""
    now = now or timezone.now()
    published: list[int] = []
    due = Post.objects.filter(status=PostStatus.SCHEDULED, publish_at__lte=now).values_list("id", flat=True)
    for post_id in list(due):
        with transaction.atomic():
            post = Post.objects.select_for_update().filter(pk=post_id, status=PostStatus.SCHEDULED).first()
            if post is None:
                continue
            at = post.publish_at
            post.publish_at = None
            post.status = PostStatus.PUBLISHED
            post.published_at = at or now
            post.updated_at = now
            post.save(update_fields=["status", "published_at", "publish_at", "updated_at"])
            _enqueue_linkbacks(post)
            published.append(post_id)
    return published


# ---------------------------------------------------------------------------------------------- comments


def comments_open(*, post: Post, now: datetime | None = None) -> bool:
    """Whether `post` takes comments now: published, enabled, and not past its closing age."""
    if not post.is_published or not post.comments_enabled:
        return False
    close_at = post.comments_close_at(int(blog_setting("SERVICEPULSE_BLOG_CLOSE_COMMENTS_DAYS")))
    return close_at is None or (now or timezone.now()) < close_at


def linkbacks_open(*, post: Post) -> bool:
    return post.is_published and post.pings_enabled


def _is_moderator(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return user is not None and has_role(user, Role.RESPONDER)


def comment_hold_reasons(
    *,
    candidate: Candidate,
    user: AbstractBaseUser | AnonymousUser | None = None,
    kind: str = CommentKind.COMMENT,
) -> list[str]:
    """WordPress's check_comment: too many links, a moderation word, or a first-time commenter."""
    reasons: list[str] = []
    max_links = int(blog_setting("SERVICEPULSE_BLOG_MAX_LINKS"))
    links = count_links(candidate.text)
    if max_links and links >= max_links:
        reasons.append(f"{links} links (holding at {max_links} or more)")
    word = word_list_match(kind=WordListKind.MODERATION, candidate=candidate)
    if word:
        reasons.append(f"moderation word: {word}")
    if blog_setting("SERVICEPULSE_BLOG_FIRST_TIME_HOLD"):
        approved = Comment.objects.filter(status=CommentStatus.APPROVED)
        if user is not None and user.is_authenticated:
            known = approved.filter(user_id=user.pk).exists() or (
                bool(candidate.author_email)
                and approved.filter(author_email__iexact=candidate.author_email).exists()
            )
        elif kind == CommentKind.COMMENT:
            known = (
                bool(candidate.author_email)
                and approved.filter(
                    author_email__iexact=candidate.author_email, author_name=candidate.author_name
                ).exists()
            )
        else:
            known = False  # linkbacks: every new source is first seen by a moderator
        if not known:
            reasons.append("first-time commenter")
    return reasons


def _judge(
    *, candidate: Candidate, user: AbstractBaseUser | AnonymousUser | None, kind: str
) -> tuple[str, list[str], float | None]:
    if _is_moderator(user):
        return CommentStatus.APPROVED, [], None
    verdict = spam_verdict(candidate)
    if verdict.spam:
        return CommentStatus.SPAM, verdict.reasons, verdict.score
    holds = comment_hold_reasons(candidate=candidate, user=user, kind=kind)
    return (CommentStatus.PENDING if holds else CommentStatus.APPROVED), holds, verdict.score


def _parent_within_depth(parent: Comment | None) -> Comment | None:
    """Replies deeper than the configured depth attach to the deepest allowed ancestor instead."""
    max_depth = max(int(blog_setting("SERVICEPULSE_BLOG_THREAD_DEPTH")), 1)
    while parent is not None and parent.depth >= max_depth:
        parent = parent.parent
    return parent


DUPLICATE_WINDOW = timedelta(hours=1)


def _comment_duplicate(
    *, post: Post, parent: Comment | None, body: str, user_id: int | None, author_email: str
) -> Comment | None:
    """The same person's identical comment, in the same place, sent within the last hour (not trashed)."""
    same = Comment.objects.filter(
        post=post,
        parent=parent,
        kind=CommentKind.COMMENT,
        body=body,
        created_at__gte=timezone.now() - DUPLICATE_WINDOW,
    ).exclude(status=CommentStatus.TRASH)
    if user_id is not None:
        same = same.filter(user_id=user_id)
    elif author_email.strip():
        same = same.filter(user_id__isnull=True, author_email__iexact=author_email.strip())
    else:
        return None
    return same.order_by("id").first()


def comment_submit(
    *,
    post: Post,
    body: str,
    author_name: str = "",
    author_email: str = "",
    author_url: str = "",
    user: AbstractBaseUser | AnonymousUser | None = None,
    parent: Comment | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
    notify_replies: bool = False,
    honeypot: str = "",
    elapsed_seconds: float | None = None,
) -> Comment:
    """Take a comment through the spam layers and hold rules and store it as approved, pending or spam.

    Raises CommentRejected (nothing stored) when comments are closed, the honeypot is filled, the form came
    back faster than a person types, or the address is over its rate limit. The same comment sent again by the
    same person within the hour is not stored twice: the first one is returned.
    """
    if not comments_open(post=post):
        raise CommentRejected("Comments are closed on this post.", code="closed")
    if honeypot:
        raise CommentRejected("Your comment could not be accepted.", code="honeypot")
    signed_in = user is not None and user.is_authenticated
    # A person types slower than a bot fills a form; people signed in (staff: there is no sign-up) are known,
    # and the leader answering a comment in a few seconds was told "That was quick".
    min_fill = float(blog_setting("SERVICEPULSE_BLOG_MIN_FILL_SECONDS"))
    if not signed_in and elapsed_seconds is not None and elapsed_seconds < min_fill:
        raise CommentRejected("That was quick: please take a moment and send it again.", code="too_fast")
    if signed_in:
        author_name = author_name or user.get_full_name() or user.get_username()  # type: ignore[union-attr]
        author_email = author_email or getattr(user, "email", "") or ""
    body = body.strip()
    if not body:
        raise CommentRejected("Please write a comment.", code="empty")
    if not author_name.strip() or (not signed_in and not author_email.strip()):
        raise CommentRejected("Please give your name and e-mail address.", code="identity")
    if parent is not None and parent.post_id != post.pk:
        raise CommentRejected("That reply belongs to another post.", code="parent")
    parent = _parent_within_depth(parent)
    user_id = user.pk if signed_in and user is not None else None
    # The same form sent again (a double click, a reload that re-posts) gets the comment already stored
    # back, before it counts against the rate limit; a second check below closes the race of two at once.
    same = _comment_duplicate(post=post, parent=parent, body=body, user_id=user_id, author_email=author_email)
    if same is not None:
        return same
    retry_after = rate_limit_retry_after(ip_address=ip_address)
    if retry_after is not None:
        # Rounded up to whole minutes: what a person needs to know, and no finer a measure of the window for
        # a sender probing it. The limit itself is not said.
        minutes = max(1, math.ceil(retry_after / 60))
        raise CommentRejected(
            "Your comment was not posted: several comments came from your address in a short time. Please "
            f"send it again in about {minutes} minute{'s' if minutes != 1 else ''}; what you wrote is kept "
            "below.",
            code="rate",
            retry_after=minutes * 60,
        )
    candidate = Candidate(
        text=body,
        author_name=author_name.strip(),
        author_email=author_email.strip(),
        author_url=safe_url(author_url),
        ip_address=ip_address,
        user_agent=user_agent,
        permalink=site_url(post.get_absolute_url()),
    )
    status, reasons, score = _judge(candidate=candidate, user=user, kind=CommentKind.COMMENT)
    with transaction.atomic():
        # Comments on one post are written one at a time, so two copies sent at once are seen as one.
        list(Post.objects.select_for_update().filter(pk=post.pk).values_list("pk", flat=True))
        same = _comment_duplicate(
            post=post, parent=parent, body=body, user_id=user_id, author_email=candidate.author_email
        )
        if same is not None:
            return same
        comment = Comment.objects.create(
            post=post,
            parent=parent,
            depth=(parent.depth + 1) if parent else 1,
            kind=CommentKind.COMMENT,
            status=status,
            user_id=user_id,
            author_name=candidate.author_name[:200],
            author_email=candidate.author_email,
            author_url=candidate.author_url[:1000],
            body=body,
            body_html=render_comment(body),
            ip_address=ip_address,
            user_agent=user_agent[:500],
            hold_reasons=reasons,
            spam_score=score,
        )
        if notify_replies and comment.author_email and status != CommentStatus.SPAM:
            subscription_request(comment=comment, email=comment.author_email)
        _after_status(comment, previous=None)
    return comment


def comment_editable(
    *, comment: Comment, user: AbstractBaseUser | AnonymousUser | None, own_ids: Iterable[int] = ()
) -> bool:
    """Authors may edit their own comment for the configured minutes (15 by default) after writing it."""
    if (
        comment.kind != CommentKind.COMMENT
        or comment.status in {CommentStatus.SPAM, CommentStatus.TRASH}
        or comment_is_erased(comment)
    ):
        return False
    window = timedelta(minutes=int(blog_setting("SERVICEPULSE_BLOG_EDIT_MINUTES")))
    if timezone.now() > comment.created_at + window:
        return False
    if user is not None and user.is_authenticated and comment.user_id == user.pk:
        return True
    return comment.user_id is None and comment.pk in set(own_ids)


def comment_edit(
    *, comment: Comment, body: str, user: AbstractBaseUser | AnonymousUser | None, own_ids: Iterable[int] = ()
) -> Comment:
    """Change one's own comment within the editing window; the new text goes through the spam layers again."""
    if not comment_editable(comment=comment, user=user, own_ids=own_ids):
        raise CommentRejected("This comment can no longer be edited.", code="edit_window")
    body = body.strip()
    if not body:
        raise CommentRejected("Please write a comment.", code="empty")
    candidate = Candidate(
        text=body,
        author_name=comment.author_name,
        author_email=comment.author_email,
        author_url=comment.author_url,
        ip_address=comment.ip_address,
        user_agent=comment.user_agent,
    )
    previous = comment.status
    verdict = spam_verdict(candidate) if not _is_moderator(user) else None
    comment.body = body
    comment.body_html = render_comment(body)
    comment.edited_at = timezone.now()
    if verdict is not None and verdict.spam:
        comment.status = CommentStatus.SPAM
        comment.hold_reasons = verdict.reasons
    elif previous == CommentStatus.APPROVED and not _is_moderator(user):
        holds = [
            r for r in comment_hold_reasons(candidate=candidate, user=user) if r != "first-time commenter"
        ]
        if holds:
            comment.status = CommentStatus.PENDING
            comment.hold_reasons = holds
    with transaction.atomic():
        comment.save()
        if comment.status != previous:
            _after_status(comment, previous=previous)
    return comment


def _after_status(comment: Comment, *, previous: str | None) -> None:
    """Side effects of a comment reaching a status: mentions, reply notifications, moderator notifications."""
    from servicepulse.blog import tasks

    comment_id = comment.pk
    if previous == CommentStatus.APPROVED and comment.status in {CommentStatus.SPAM, CommentStatus.TRASH}:
        comment_unsync_mention(comment=comment)
    if comment.status == CommentStatus.APPROVED and previous != CommentStatus.APPROVED:
        comment_sync_mention(comment=comment)
        if comment.parent_id:
            transaction.on_commit(lambda: tasks.notify_reply_subscribers.enqueue(comment_id))
    elif comment.status == CommentStatus.PENDING and previous is None:
        transaction.on_commit(lambda: tasks.notify_moderators.enqueue(comment_id))


def comment_sync_mention(*, comment: Comment) -> bool:
    """Staff voice: an approved comment becomes a mention (source kind `blog`) for the analysis pipeline."""
    if (
        comment.kind != CommentKind.COMMENT
        or comment.status != CommentStatus.APPROVED
        or comment.mention_synced
        or comment_is_erased(comment)
    ):
        return False
    from servicepulse.mentions.services import MentionData, mentions_ingest
    from servicepulse.sources.models import Source, SourceKind
    from servicepulse.sources.services import source_get_or_create

    # The blog's channel: the existing source of kind `blog` (the demo has one), else "Blog comments".
    source = Source.objects.filter(kind=SourceKind.BLOG).order_by("id").first() or source_get_or_create(
        kind=SourceKind.BLOG, name=BLOG_SOURCE_NAME
    )
    mentions_ingest(
        source=source,
        items=[
            MentionData(
                external_id=f"comment-{comment.pk}",
                text=comment.body,
                created_at=comment.created_at,
                author=comment.author_name,
                author_id=f"user:{comment.user_id}"
                if comment.user_id
                else (comment.author_email or "").lower(),
                url=site_url(comment.get_absolute_url()),
                in_reply_to=f"comment-{comment.parent_id}"
                if comment.parent_id
                else f"post-{comment.post_id}",
                thread_id=f"post-{comment.post_id}",
                raw={"post": comment.post.title, "post_id": comment.post_id, "kind": comment.kind},
            )
        ],
    )
    Comment.objects.filter(pk=comment.pk).update(mention_synced=True)
    comment.mention_synced = True
    return True


def comment_unsync_mention(*, comment: Comment) -> int:
    """Withdraw the staff-voice mention of a comment a moderator later marked spam or trash."""
    if not comment.mention_synced:
        return 0
    from servicepulse.mentions.models import Mention
    from servicepulse.sources.models import SourceKind

    deleted, _ = Mention.objects.filter(
        source__kind=SourceKind.BLOG, external_id=f"comment-{comment.pk}"
    ).delete()
    Comment.objects.filter(pk=comment.pk).update(mention_synced=False)
    comment.mention_synced = False
    return deleted


def comments_forget_addresses(*, now: datetime | None = None) -> int:
    """Forget the IP address and browser of comments (and the moderation log's copies) older than
    SERVICEPULSE_BLOG_IP_RETENTION_DAYS (0: never): needed while a comment may still be reported to the spam
    filter, not for ever. Returns how many comments were changed."""
    days = int(blog_setting("SERVICEPULSE_BLOG_IP_RETENTION_DAYS"))
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = Comment.objects.filter(created_at__lt=cutoff).exclude(ip_address__isnull=True, user_agent="")
    changed = old.update(ip_address=None, user_agent="")
    ModerationDecision.objects.filter(decided_at__lt=cutoff, ip_address__isnull=False).update(ip_address=None)
    return changed


@dataclass
class BlogPurge:
    """What `blog_purge` deleted."""

    comments: int = 0
    webmention_requests: int = 0
    subscriptions: int = 0


def blog_purge(*, now: datetime | None = None) -> BlogPurge:
    """Delete what the blog only needs for a while, older than SERVICEPULSE_BLOG_PURGE_DAYS (0: keep all):
    comments and linkbacks in spam or trash (caught, or last moderated, before then: a moderator has had that
    long to change their mind; the moderation log's copy stays for spam training), the log of received
    Webmentions, and reply subscriptions never confirmed or ended by unsubscribing. A spam or trashed comment
    that replies still hang from, other than ones going too, stays. Without this, every spam bot's attempt is
    kept for ever."""
    days = int(blog_setting("SERVICEPULSE_BLOG_PURGE_DAYS"))
    if days <= 0:
        return BlogPurge()
    cutoff = (now or timezone.now()) - timedelta(days=days)
    binned = {CommentStatus.SPAM, CommentStatus.TRASH}
    candidates = set(
        Comment.objects.filter(status__in=binned, created_at__lt=cutoff)
        .exclude(decisions__decided_at__gte=cutoff)
        .values_list("pk", flat=True)
    )
    # A candidate whose replies do not all go (an approved answer, a spam reply still recent) stays, and so
    # does its parent in turn: deleting it would take them with it (CASCADE).
    children: dict[int, set[int]] = {}
    for parent_id, pk in Comment.objects.filter(parent__status__in=binned).values_list("parent_id", "pk"):
        children.setdefault(parent_id, set()).add(pk)
    changed = True
    while changed:
        keep = {pk for pk in candidates if not children.get(pk, set()) <= candidates}
        candidates -= keep
        changed = bool(keep)
    comments = 0
    ordered = sorted(candidates)
    for start in range(0, len(ordered), PURGE_BATCH):  # a year of spam is more ids than one query may hold
        with transaction.atomic():
            _, per_model = Comment.objects.filter(pk__in=ordered[start : start + PURGE_BATCH]).delete()
        comments += per_model.get(Comment._meta.label, 0)
    with transaction.atomic():
        requests, _ = WebmentionRequest.objects.filter(received_at__lt=cutoff).delete()
        subscriptions, _ = ReplySubscription.objects.filter(
            Q(confirmed_at__isnull=True, created_at__lt=cutoff) | Q(unsubscribed_at__lt=cutoff)
        ).delete()
    return BlogPurge(comments=comments, webmention_requests=requests, subscriptions=subscriptions)


def comments_erase_for_author(
    *, author: str, mention_ids: Sequence[int], source_id: int | None = None
) -> tuple[int, int]:
    """Erase a person's blog comments (`servicepulse erase-author`, through `author_erasing`; call it before
    their mentions `mention_ids` are deleted): those behind their mentions (the comments that became them and
    the backfed replies made from them) and, when the erasure is not limited to a source other than the blog's,
    those no mention stands for — held, spam and trashed comments, which never became posts, the demo's, and
    received linkbacks — whatever their status. Those are the person's when their e-mail address is `author` (in
    any case), their name is exactly `author` (as posts' names are matched), their account is `user:<id>`, or
    their e-mail address or account is the one the person's blog posts among `mention_ids` were written with.
    Their reply subscriptions and the moderation log's copies of their comments (kept for spam training, perhaps
    of comments since deleted) go too. Everything is erased in one pass, deepest first, so a comment of theirs
    kept only by replies that are also theirs is deleted rather than left as "[erased]".
    Returns (deleted, replaced by the placeholder)."""
    comments, identity = comments_of_author(author=author, mention_ids=mention_ids, source_id=source_id)
    if identity is not None:
        ReplySubscription.objects.filter(identity.subscriptions).delete()
        ModerationDecision.objects.filter(identity.decisions).delete()
    return _comments_erase(comments)


def _comments_erase(comments: Sequence[Comment]) -> tuple[int, int]:
    """Erase these comments of one person. A comment is deleted unless approved or pending replies still hang
    from it; then, as WordPress does, it stays in its thread with "[erased]" for its author and text and no
    e-mail, website, IP address, user agent or account (`comment_is_erased`). Its author's reply
    subscriptions on it and the copies of it the moderation log kept go either way.
    Returns (deleted, replaced by the placeholder)."""
    deleted = erased = 0
    # Deepest first: a reply deleted here no longer keeps its parent in the thread.
    for comment in sorted(comments, key=lambda c: (-c.depth, -c.pk)):
        ModerationDecision.objects.filter(comment=comment).delete()
        if not comment.replies.filter(status__in=[CommentStatus.APPROVED, CommentStatus.PENDING]).exists():
            comment.delete()
            deleted += 1
            continue
        if comment.author_email:
            ReplySubscription.objects.filter(comment=comment, email__iexact=comment.author_email).delete()
        Comment.objects.filter(pk=comment.pk).update(
            user=None,
            author_name=ERASED,
            author_email="",
            author_url="",
            body=ERASED,
            body_html=render_comment(ERASED),
            source_url="",
            title="",
            ip_address=None,
            user_agent="",
            hold_reasons=[],
        )
        erased += 1
    return deleted, erased


_DECISION_STATUS = {
    Decision.APPROVED: CommentStatus.APPROVED,
    Decision.SPAM: CommentStatus.SPAM,
    Decision.TRASH: CommentStatus.TRASH,
    Decision.PENDING: CommentStatus.PENDING,
}


def comments_moderate(*, comment_ids: Sequence[int], decision: Decision | str, moderator: User | None) -> int:
    """Approve, mark as spam, trash (or send back to the queue) these comments, in bulk. Each decision is
    stored in ModerationDecision for the next training of the spam head. Returns how many changed."""
    decision = Decision(decision)
    target = _DECISION_STATUS[decision]
    changed = 0
    reports: list[tuple[Candidate, bool]] = []
    with transaction.atomic():
        for comment in Comment.objects.select_for_update().filter(pk__in=list(comment_ids)).order_by("id"):
            previous = comment.status
            if previous == target:
                continue
            ModerationDecision.objects.create(
                comment=comment,
                decision=decision,
                is_spam=decision == Decision.SPAM,
                previous_status=previous,
                kind=comment.kind,
                text=comment.body,
                author_name=comment.author_name,
                author_email=comment.author_email,
                author_url=comment.author_url,
                ip_address=comment.ip_address,
                filter_reasons=comment.hold_reasons,
                decided_by=moderator,
            )
            comment.status = target
            comment.save(update_fields=["status"])
            _after_status(comment, previous=previous)
            changed += 1
            if decision == Decision.SPAM or (
                decision == Decision.APPROVED and previous == CommentStatus.SPAM
            ):
                reports.append(
                    (
                        Candidate(
                            text=comment.body,
                            author_name=comment.author_name,
                            author_email=comment.author_email,
                            author_url=comment.author_url,
                            ip_address=comment.ip_address,
                            user_agent=comment.user_agent,
                            kind=comment.kind,
                        ),
                        decision == Decision.SPAM,
                    )
                )
    for candidate, spam in reports:
        akismet_report(candidate, spam=spam)
    return changed


def word_list_set(*, kind: WordListKind, terms: Iterable[str]) -> int:
    """Replace a word list (one term per entry, blank ones ignored). Returns the number kept."""
    clean = sorted({term.strip() for term in terms if term.strip()})
    with transaction.atomic():
        WordListEntry.objects.filter(kind=kind).delete()
        WordListEntry.objects.bulk_create([WordListEntry(kind=kind, term=term[:200]) for term in clean])
    return len(clean)


# ---------------------------------------------------------------------------------------------- linkbacks


@dataclass
class LinkbackData:
    source_url: str
    title: str = ""
    excerpt: str = ""
    author_name: str = ""
    ip_address: str | None = None


def linkback_save(*, post: Post, kind: CommentKind, data: LinkbackData) -> tuple[Comment, bool]:
    """Store a received linkback (or replace the one already stored for this source). Returns (comment,
    created). A new one goes through the spam layers and hold rules like a comment; an update keeps its
    moderation status unless the new content is spam."""
    from urllib.parse import urlsplit

    host = urlsplit(data.source_url).hostname or data.source_url
    author = (data.author_name or data.title or host)[:200]
    candidate = Candidate(
        text=data.excerpt or data.title or data.source_url,
        author_name=author,
        author_url=data.source_url,
        ip_address=data.ip_address,
        kind=str(kind),
        permalink=site_url(post.get_absolute_url()),
    )
    with transaction.atomic():
        existing = (
            Comment.objects.select_for_update()
            .filter(post=post, kind=kind, source_url=data.source_url)
            .first()
        )
        if existing is not None:
            verdict = spam_verdict(candidate)
            existing.title = data.title[:300]
            existing.author_name = author
            existing.body = data.excerpt
            existing.body_html = ""
            existing.edited_at = timezone.now()
            if verdict.spam and existing.status != CommentStatus.SPAM:
                existing.status = CommentStatus.SPAM
                existing.hold_reasons = verdict.reasons
            existing.save()
            return existing, False
        status, reasons, score = _judge(candidate=candidate, user=None, kind=kind)
        comment = Comment.objects.create(
            post=post,
            kind=kind,
            status=status,
            author_name=author,
            author_url=data.source_url,
            source_url=data.source_url,
            title=data.title[:300],
            body=data.excerpt,
            ip_address=data.ip_address,
            hold_reasons=reasons,
            spam_score=score,
        )
        _after_status(comment, previous=None)
    return comment, True


def comment_from_elsewhere(
    *,
    post: Post,
    key: str,
    body: str,
    author_name: str,
    author_url: str = "",
    source_url: str = "",
    created_at: datetime | None = None,
    parent: Comment | None = None,
) -> tuple[Comment, bool]:
    """A reply or quote of the post's copy on a social network (publish's backfeed), stored once per `key`
    as a comment linking to the original. It goes through the spam layers and is always held for a
    moderator (never approved on its own; only a blocklist match makes it spam). It is already a mention
    (it came from one), so it is marked synced and does not come back as staff voice.
    Returns (comment, created)."""
    existing = Comment.objects.filter(import_key=key).first()
    if existing is not None:
        return existing, False
    parent = _parent_within_depth(parent) if parent is not None and parent.post_id == post.pk else None
    candidate = Candidate(
        text=body,
        author_name=author_name[:200],
        author_url=safe_url(author_url),
        kind=str(CommentKind.COMMENT),
        permalink=site_url(post.get_absolute_url()),
    )
    verdict = spam_verdict(candidate)
    # A blocklisted reply is spam. The classifier's (or Akismet's) suspicion only goes with it to the queue:
    # the author is a known account on a moderated network, and every such reply is held anyway.
    blocked = verdict.spam and any(reason.startswith("blocklist") for reason in verdict.reasons)
    status = CommentStatus.SPAM if blocked else CommentStatus.PENDING
    reasons = ["from a social network: held for moderation", *(verdict.reasons if verdict.spam else [])]
    with transaction.atomic():
        comment = Comment.objects.create(
            post=post,
            parent=parent,
            depth=(parent.depth + 1) if parent else 1,
            kind=CommentKind.COMMENT,
            status=status,
            author_name=(author_name or "someone")[:200],
            author_url=safe_url(author_url)[:1000],
            source_url=safe_url(source_url)[:1000],
            body=body.strip(),
            body_html=render_comment(body.strip()),
            hold_reasons=reasons,
            spam_score=verdict.score,
            created_at=created_at or timezone.now(),
            import_key=key[:300],
            mention_synced=True,
        )
        _after_status(comment, previous=None)
    return comment, True


def linkback_remove(*, post: Post, kind: CommentKind, source_url: str) -> int:
    """Remove a received linkback whose source is gone (410) or no longer links to the post."""
    deleted, _ = Comment.objects.filter(post=post, kind=kind, source_url=source_url).delete()
    return deleted


# ---------------------------------------------------------------------------------------------- subscriptions


def subscription_request(*, comment: Comment, email: str) -> ReplySubscription:
    """Ask to hear of replies to `comment`: nothing is sent until the address confirms (double opt-in).

    At most CONFIRM_LIMIT confirmation e-mails go to one address per CONFIRM_WINDOW_SECONDS; beyond that the
    request is kept unconfirmed without an e-mail (asking again later sends one)."""
    from servicepulse.blog import tasks

    subscription, created = ReplySubscription.objects.get_or_create(
        comment=comment, email=email.lower(), defaults={"token": secrets.token_urlsafe(32)}
    )
    if (created or subscription.confirmed_at is None) and _confirmation_allowed(email=subscription.email):
        subscription_id = subscription.pk
        transaction.on_commit(lambda: tasks.send_subscription_confirmation.enqueue(subscription_id))
    return subscription


def _confirmation_allowed(*, email: str) -> bool:
    over = rate_limit_hit(
        scope="blog-subscribe-to", key=email.strip().lower(), limit=CONFIRM_LIMIT, per=CONFIRM_WINDOW_SECONDS
    )
    if over is not None:
        logger.info("reply-notification confirmation not sent: over the per-recipient limit")
    return over is None


def subscription_confirm(*, token: str) -> ReplySubscription | None:
    subscription = ReplySubscription.objects.filter(token=token).first()
    if subscription is None:
        return None
    if subscription.confirmed_at is None or subscription.unsubscribed_at is not None:
        subscription.confirmed_at = subscription.confirmed_at or timezone.now()
        subscription.unsubscribed_at = None
        subscription.save(update_fields=["confirmed_at", "unsubscribed_at"])
    return subscription


def subscription_unsubscribe(*, token: str) -> ReplySubscription | None:
    subscription = ReplySubscription.objects.filter(token=token).first()
    if subscription is not None and subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = timezone.now()
        subscription.save(update_fields=["unsubscribed_at"])
    return subscription


def subscription_send_confirmation(*, subscription: ReplySubscription) -> None:
    from django.urls import reverse

    post = subscription.comment.post
    send_mail(
        subject=f"Confirm: replies to your comment on “{post.title}”",
        message=(
            f"Someone (we hope you) asked to be told by e-mail of replies to a comment on “{post.title}”.\n\n"
            f"To confirm, open:\n{site_url(reverse('blog:subscription_confirm', args=[subscription.token]))}\n\n"
            "If it was not you, ignore this message: nothing will be sent."
        ),
        from_email=None,
        recipient_list=[subscription.email],
    )


def reply_notify_subscribers(*, comment: Comment) -> int:
    """E-mail the confirmed subscribers of the parent comment about an approved reply. Returns mails sent."""
    from django.urls import reverse

    if comment.parent_id is None or comment.status != CommentStatus.APPROVED:
        return 0
    sent = 0
    subscriptions = ReplySubscription.objects.filter(
        comment_id=comment.parent_id, confirmed_at__isnull=False, unsubscribed_at__isnull=True
    ).exclude(email__iexact=comment.author_email or "-")
    for subscription in subscriptions:
        unsubscribe = site_url(reverse("blog:subscription_unsubscribe", args=[subscription.token]))
        EmailMessage(
            subject=f"{comment.author_name} replied to your comment on “{comment.post.title}”",
            body=(
                f"{comment.author_name} wrote:\n\n{comment.body}\n\n"
                f"Read and reply: {site_url(comment.get_absolute_url())}"
                f"\n\nStop these e-mails: {unsubscribe}"
            ),
            to=[subscription.email],
            # RFC 2369 / RFC 8058: mail clients offer a one-click unsubscribe that POSTs to this URL.
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        ).send()
        sent += 1
    return sent


def moderator_emails() -> list[str]:
    """Configured moderator addresses, else every responder's and admin's."""
    from django.contrib.auth import get_user_model

    configured = list(blog_setting("SERVICEPULSE_BLOG_MODERATOR_EMAILS"))
    if configured:
        return configured
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    return sorted({user.email for user in users if has_role(user, Role.RESPONDER)})


def moderators_notify(*, comment: Comment) -> int:
    """Tell moderators a comment or linkback is waiting for them."""
    from django.urls import reverse

    if comment.status != CommentStatus.PENDING:
        return 0
    recipients = moderator_emails()
    if not recipients:
        return 0
    reasons = "; ".join(comment.hold_reasons) or "held"
    send_mail(
        subject=f"[{settings.SERVICEPULSE_ORGANISATION}] Please moderate: “{comment.post.title}”",
        message=(
            f"A new {comment.get_kind_display().lower()} by {comment.author_name} is waiting ({reasons}).\n\n"
            f"{comment.body[:1000]}\n\nModeration queue: {site_url(reverse('blog:moderation'))}"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)


# ---------------------------------------------------------------------------------------------- demo


def blog_demo_load(*, end: datetime | None = None, author: User | None = None) -> int:
    """The demo's blog: weekly posts around the planted incidents, with approved threaded comments, and one
    scheduled post. Idempotent (posts carry `demo:` import keys). Returns the number of posts created."""
    from datetime import time

    from servicepulse.blog.demo_content import DEMO_POSTS, DEMO_SCHEDULED

    end = end or timezone.now()
    if author is None:  # the posts are the leader's: the first admin, when there is one
        author = User.objects.filter(groups__name=Role.ADMIN).order_by("id").first()
    tz = timezone.get_default_timezone()
    local_end = end.astimezone(tz)
    monday = datetime.combine((local_end - timedelta(days=local_end.weekday())).date(), time(0, 0), tzinfo=tz)

    def at(spec: tuple[int, int, time]) -> datetime:
        weeks, weekday, clock = spec
        day = (monday + timedelta(weeks=weeks, days=weekday)).date()
        return datetime.combine(day, clock, tzinfo=tz)

    created = 0
    for item in DEMO_POSTS:
        key = f"demo:{item['key']}"
        when = at(item["when"])
        if when > end and item.get("fallback"):
            when = at(item["fallback"])
        if when > end or Post.objects.filter(import_key=key).exists():
            continue
        with transaction.atomic():
            post = post_create(
                title=item["title"], body_markdown=item["body"], author=author, tags=item["tags"]
            )
            Post.objects.filter(pk=post.pk).update(
                status=PostStatus.PUBLISHED,
                published_at=when,
                created_at=when,
                updated_at=when,
                import_key=key,
            )
            made: list[Comment] = []
            for n, (name, email, text, parent_index) in enumerate(item["comments"]):
                parent = made[parent_index] if parent_index is not None else None
                made.append(
                    Comment.objects.create(
                        post=post,
                        parent=parent,
                        depth=(parent.depth + 1) if parent else 1,
                        status=CommentStatus.APPROVED,
                        author_name=name,
                        author_email=email,
                        body=text,
                        body_html=render_comment(text),
                        created_at=min(when + timedelta(hours=2 + 3 * n), end),
                        import_key=f"{key}:comment:{n}",
                        mention_synced=True,  # the demo generator already made the blog channel's mentions
                    )
                )
        created += 1
    key = f"demo:{DEMO_SCHEDULED['key']}"
    if not Post.objects.filter(import_key=key).exists():
        post = post_create(
            title=DEMO_SCHEDULED["title"],
            body_markdown=DEMO_SCHEDULED["body"],
            author=author,
            tags=DEMO_SCHEDULED["tags"],
        )
        Post.objects.filter(pk=post.pk).update(
            status=PostStatus.SCHEDULED,
            publish_at=end + timedelta(days=DEMO_SCHEDULED["days_after_end"]),
            import_key=key,
        )
        created += 1
    return created
