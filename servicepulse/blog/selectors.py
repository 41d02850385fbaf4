"""Reading the blog."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.urls import Resolver404, resolve

from servicepulse.blog.models import (
    Comment,
    CommentKind,
    CommentStatus,
    ModerationDecision,
    Post,
    PostStatus,
    ReplySubscription,
    Tag,
)


def posts_published(
    *, tag: str | None = None, query: str | None = None, year: int | None = None, month: int | None = None
) -> QuerySet[Post]:
    """Published posts, newest first, filtered by tag slug, search words, or month."""
    qs = Post.objects.filter(status=PostStatus.PUBLISHED, published_at__isnull=False)
    if tag:
        qs = qs.filter(tags__slug=tag)
    if query:
        for word in query.split()[:8]:
            qs = qs.filter(
                Q(title__icontains=word) | Q(body_markdown__icontains=word) | Q(tags__name__iexact=word)
            )
    if year:
        qs = qs.filter(published_at__year=year)
    if month:
        qs = qs.filter(published_at__month=month)
    return (
        qs.distinct()
        .select_related("author")
        .prefetch_related("tags")
        .annotate(
            approved_comments=Count(
                "comments",
                filter=Q(comments__status=CommentStatus.APPROVED, comments__kind=CommentKind.COMMENT),
                distinct=True,
            )
        )
        .order_by("-published_at", "-id")
    )


def tag_published_get(*, slug: str) -> Tag | None:
    """The tag with this slug when a published post carries it: one only drafts carry is not public yet."""
    return Tag.objects.filter(
        slug=slug, posts__status=PostStatus.PUBLISHED, posts__published_at__isnull=False
    ).first()


def post_published_get(*, slug: str) -> Post | None:
    return (
        Post.objects.filter(slug=slug, status=PostStatus.PUBLISHED)
        .select_related("author")
        .prefetch_related("tags")
        .first()
    )


def posts_unpublished() -> QuerySet[Post]:
    """Drafts and scheduled posts, for the writers."""
    return (
        Post.objects.exclude(status=PostStatus.PUBLISHED)
        .select_related("author")
        .order_by("-updated_at", "-pk")
    )


def archive_months() -> list[tuple[datetime, int]]:
    """(month, number of posts) for every month with a published post, newest first."""
    rows = (
        Post.objects.filter(status=PostStatus.PUBLISHED, published_at__isnull=False)
        .annotate(month=TruncMonth("published_at"))
        .values("month")
        .annotate(n=Count("id"))
        .order_by("-month")
    )
    return [(row["month"], row["n"]) for row in rows]


def _host_is_ours(host: str, *, request_host: str | None) -> bool:
    """The host the request came to, or SERVICEPULSE_BASE_URL's host (ALLOWED_HOSTS may be a wildcard, so it
    is not used: a post URL on any other host is not ours)."""
    host = host.lower()
    if request_host and host == request_host.lower():
        return True
    base = urlsplit(settings.BASE_URL)
    return bool(base.netloc) and host == base.netloc.lower()


def post_slug_for_url(url: str, *, request_host: str | None = None) -> str | None:
    """The slug when `url` is a post page of this site (by host and path), else None."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    if not _host_is_ours(parts.netloc, request_host=request_host):
        return None
    try:
        match = resolve(parts.path or "/")
    except Resolver404:
        return None
    if match.view_name != "blog:post":
        return None
    return str(match.kwargs["slug"])


def url_is_ours(url: str, *, request_host: str | None = None) -> bool:
    """Whether `url` is a page of this site that exists (any view), by host and path."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not _host_is_ours(parts.netloc, request_host=request_host):
        return False
    try:
        resolve(parts.path or "/")
    except Resolver404:
        return False
    return True


def post_for_url(url: str, *, request_host: str | None = None) -> Post | None:
    """The published post that `url` points at, or None."""
    slug = post_slug_for_url(url, request_host=request_host)
    return post_published_get(slug=slug) if slug else None


@dataclass
class CommentNode:
    comment: Comment
    children: list[CommentNode] = field(default_factory=list)


def comment_tree(*, post: Post, include_ids: set[int] | None = None) -> list[CommentNode]:
    """Approved comments of `post` as a tree (oldest first at each level). `include_ids` adds the reader's own
    held comments so they see them "awaiting moderation"."""
    statuses = Q(status=CommentStatus.APPROVED)
    if include_ids:
        statuses |= Q(pk__in=include_ids, status=CommentStatus.PENDING)
    comments = list(
        Comment.objects.filter(post=post, kind=CommentKind.COMMENT)
        .filter(statuses)
        .order_by("created_at", "id")
    )
    nodes = {comment.pk: CommentNode(comment) for comment in comments}
    roots: list[CommentNode] = []
    for comment in comments:
        node = nodes[comment.pk]
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots


def comment_reply_target(*, post: Post, comment_id: int) -> Comment | None:
    """The approved comment of `post` a reader may reply to, or None."""
    return Comment.objects.filter(
        pk=comment_id, post=post, status=CommentStatus.APPROVED, kind=CommentKind.COMMENT
    ).first()


def comment_nodes(tree: list[CommentNode]) -> list[CommentNode]:
    """Every node of a comment tree, depth first."""
    out: list[CommentNode] = []
    stack = list(reversed(tree))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def linkbacks_approved(*, post: Post) -> QuerySet[Comment]:
    return Comment.objects.filter(post=post, status=CommentStatus.APPROVED).exclude(kind=CommentKind.COMMENT)


def comments_approved(*, post: Post) -> QuerySet[Comment]:
    return Comment.objects.filter(
        post=post, status=CommentStatus.APPROVED, kind=CommentKind.COMMENT
    ).select_related("post", "parent__post")


def moderation_queue(*, status: str = CommentStatus.PENDING) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(status=status).select_related("post", "parent").order_by("-created_at", "-id")
    )


def moderation_counts() -> dict[str, int]:
    rows = Comment.objects.values("status").annotate(n=Count("id"))
    counts = {status.value: 0 for status in CommentStatus}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def moderation_queues() -> list[tuple[str, str, int]]:
    """(status, label, number of comments) for each moderation queue, in the order the tabs show them."""
    counts = moderation_counts()
    return [(value, label, counts[value]) for value, label in CommentStatus.choices]


def moderation_decisions_for_training() -> list[tuple[str, bool]]:
    """(text, is_spam) for every approve/spam decision, latest decision per comment, for the spam head."""
    latest: dict[object, tuple[str, bool]] = {}
    for decision in ModerationDecision.objects.filter(decision__in=["approved", "spam"]).order_by(
        "decided_at", "id"
    ):
        key = decision.comment_id or f"d{decision.pk}"
        latest[key] = (decision.text, decision.is_spam)
    return list(latest.values())


ERASED = "[erased]"


def comment_is_erased(comment: Comment) -> bool:
    """Whether `comment` is the placeholder an erasure left (`comments_erase_for_author`)."""
    return comment.author_name == ERASED and comment.body == ERASED and not comment.author_email


def erasure_reaches_the_blog(source_id: int | None) -> bool:
    """An erasure limited to another source's posts leaves the blog alone, except the comments behind those
    posts; limited to the blog's own channel (a source of kind `blog`), it reaches all of the blog."""
    if source_id is None:
        return True
    from servicepulse.sources.models import Source, SourceKind

    return Source.objects.filter(pk=source_id, kind=SourceKind.BLOG).exists()


@dataclass
class PersonIdentity:
    """Who a person is on the blog, as filters on comments, reply subscriptions and the moderation log."""

    comments: Q
    subscriptions: Q
    decisions: Q


def person_identity(*, author: str, mention_ids: Sequence[int]) -> PersonIdentity:
    """Who `author` is on the blog: the name as given, e-mail addresses (compared case-insensitively, as the
    blog compares them everywhere) and accounts, from `author` and from the platform ids of the person's
    blog posts (a comment's post carries `user:<id>` or its e-mail address, `comment_sync_mention`). Names
    on those posts are not added: two people may share a name, an address or an account is one person's."""
    from servicepulse.mentions.models import Mention
    from servicepulse.sources.models import SourceKind

    ids = {author.strip()} | set(
        Mention.objects.filter(pk__in=list(mention_ids), source__kind=SourceKind.BLOG)
        .exclude(author_id="")
        .values_list("author_id", flat=True)
    )
    ids.discard("")
    comments = Q(author_name=author)
    subscriptions = Q(pk__in=[])  # none, unless an e-mail address is known
    decisions = Q(author_name=author)
    user_ids = sorted(int(i[5:]) for i in ids if i.startswith("user:") and i[5:].isdecimal())
    if user_ids:
        comments |= Q(user_id__in=user_ids)
    for email in sorted(i for i in ids if "@" in i):
        comments |= Q(author_email__iexact=email)
        subscriptions |= Q(email__iexact=email)
        decisions |= Q(author_email__iexact=email)
    return PersonIdentity(comments=comments, subscriptions=subscriptions, decisions=decisions)


def comments_behind_mentions(mention_ids: Sequence[int]) -> list[Comment]:
    """The comments that became these mentions and the backfed replies made from them."""
    from servicepulse.mentions.models import Mention
    from servicepulse.sources.models import SourceKind

    staff_voice: dict[int, str] = {}  # comment id -> the thread its mention was in
    backfed: set[str] = set()
    for source_id, kind, external_id, thread_id in Mention.objects.filter(
        pk__in=list(mention_ids)
    ).values_list("source_id", "source__kind", "external_id", "thread_id"):
        number = external_id.removeprefix("comment-")
        if kind == SourceKind.BLOG and external_id.startswith("comment-") and number.isdecimal():
            staff_voice[int(number)] = thread_id
        backfed.add(f"backfeed:{source_id}:{external_id}")
    comments = [
        # The demo generator's blog chatter has `comment-<n>` ids too: only a synced comment of the same
        # post's thread is the one a mention came from.
        comment
        for comment in Comment.objects.filter(
            pk__in=staff_voice, kind=CommentKind.COMMENT, mention_synced=True
        )
        if staff_voice[comment.pk] == f"post-{comment.post_id}"
    ]
    comments += Comment.objects.filter(import_key__in=backfed).exclude(pk__in=[c.pk for c in comments])
    return comments


def comments_of_author(
    *, author: str, mention_ids: Sequence[int], source_id: int | None = None
) -> tuple[list[Comment], PersonIdentity | None]:
    """A person's blog comments, as `servicepulse erase-author` and `export-author` find them: those behind
    their mentions `mention_ids` and, unless limited to a source other than the blog's, those their name,
    e-mail address or account matches (an earlier erasure's placeholder is nobody's any more). The identity
    is returned too (None when the blog is not reached), for their subscriptions and moderation log."""
    comments = comments_behind_mentions(mention_ids)
    if not erasure_reaches_the_blog(source_id):
        return comments, None
    identity = person_identity(author=author, mention_ids=mention_ids)
    seen = {comment.pk for comment in comments}
    comments += [
        comment
        for comment in Comment.objects.filter(identity.comments).exclude(pk__in=seen)
        if not comment_is_erased(comment)
    ]
    return comments, identity


def author_blog_export(
    *, author: str, mention_ids: Sequence[int], source_id: int | None = None
) -> dict[str, Any]:
    """What the blog holds about a person (`servicepulse export-author`, through `author_exporting`): the
    comments an erasure would reach (`comments_erase_for_author`: those behind their posts and, unless the
    export is limited to another source, those matched by their name, e-mail address or account), with the
    e-mail, IP address and user agent they were sent with; their reply subscriptions (no tokens); and the
    moderation log's copies of their comments. JSON-ready."""
    comments, identity = comments_of_author(author=author, mention_ids=mention_ids, source_id=source_id)
    subscriptions: list[ReplySubscription] = []
    decisions: list[ModerationDecision] = []
    if identity is not None:
        subscriptions = list(
            ReplySubscription.objects.filter(identity.subscriptions).select_related("comment__post")
        )
        decisions = list(ModerationDecision.objects.filter(identity.decisions).order_by("decided_at", "pk"))
    comments = sorted((c for c in comments if not comment_is_erased(c)), key=lambda c: (c.created_at, c.pk))
    posts = {p.pk: p for p in Post.objects.filter(pk__in={c.post_id for c in comments})}

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "blog comments": [
            {
                "post": posts[c.post_id].title,
                "post_url": posts[c.post_id].get_absolute_url(),
                "kind": c.kind,
                "status": c.status,
                "created_at": when(c.created_at),
                "edited_at": when(c.edited_at),
                "author_name": c.author_name,
                "author_email": c.author_email,
                "author_url": c.author_url,
                "account_id": c.user_id,
                "body": c.body,
                "source_url": c.source_url,
                "title": c.title,
                "ip_address": c.ip_address,
                "user_agent": c.user_agent,
                "hold_reasons": c.hold_reasons,
            }
            for c in comments
        ],
        "blog reply subscriptions": [
            {
                "email": sub.email,
                "post": sub.comment.post.title,
                "created_at": when(sub.created_at),
                "confirmed_at": when(sub.confirmed_at),
                "unsubscribed_at": when(sub.unsubscribed_at),
            }
            for sub in subscriptions
        ],
        "blog moderation log": [
            {
                "decision": d.decision,
                "decided_at": when(d.decided_at),
                "kind": d.kind,
                "text": d.text,
                "author_name": d.author_name,
                "author_email": d.author_email,
                "author_url": d.author_url,
                "ip_address": d.ip_address,
            }
            for d in decisions
        ],
    }


def site_url(path: str) -> str:
    """`path` on the address people use (SERVICEPULSE_BASE_URL), not the host a request came to (an alias, the
    proxy's upstream, plain http): feeds, cross-posts, linkbacks and the post's canonical link all name a post
    by one address, so readers and other blogs see one post, not one per host."""
    return f"{settings.BASE_URL}{path}"
