"""Reading the blog."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.urls import Resolver404, resolve

from servicepulse.blog.models import Comment, CommentKind, CommentStatus, ModerationDecision, Post, PostStatus


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


def post_published_get(*, slug: str) -> Post | None:
    return (
        Post.objects.filter(slug=slug, status=PostStatus.PUBLISHED)
        .select_related("author")
        .prefetch_related("tags")
        .first()
    )


def posts_unpublished() -> QuerySet[Post]:
    """Drafts and scheduled posts, for the writers."""
    return Post.objects.exclude(status=PostStatus.PUBLISHED).select_related("author").order_by("-updated_at")


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
