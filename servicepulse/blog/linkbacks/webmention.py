"""Webmention receiving (W3C Recommendation §3.2): synchronous request checks, asynchronous verification."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from servicepulse.blog.fetching import FetchFailed, fetch
from servicepulse.blog.linkbacks.discovery import read_source
from servicepulse.blog.models import CommentKind, Post, WebmentionRequest
from servicepulse.blog.selectors import post_for_url
from servicepulse.blog.services import LinkbackData, linkback_remove, linkback_save, linkbacks_open
from servicepulse.blog.spam import rate_limited

MAX_URL_LENGTH = 1000  # WebmentionRequest.source and .target, Comment.source_url


class WebmentionInvalid(ValueError):
    """The request fails §3.2.1: answer 400 with this message."""


class WebmentionRateLimited(Exception):
    """Too many Webmentions from one address: answer 429."""


def _valid_url(value: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and bool(parts.hostname)


def webmention_accept(
    *, source: str, target: str, request_host: str | None = None, ip_address: str | None = None
) -> tuple[WebmentionRequest, Post]:
    """Check a received Webmention and queue its verification (enqueued when the transaction commits)."""
    from servicepulse.blog.tasks import verify_webmention

    source, target = (source or "").strip(), (target or "").strip()
    if not source or not target:
        raise WebmentionInvalid("source and target are both required")
    if not _valid_url(source) or not _valid_url(target):
        raise WebmentionInvalid("source and target must be http or https URLs")
    if max(len(source), len(target)) > MAX_URL_LENGTH:
        # The request row holds 1,000 characters: PostgreSQL refused a longer URL with a 500.
        raise WebmentionInvalid(f"source and target must be at most {MAX_URL_LENGTH} characters long")
    if source.split("#")[0] == target.split("#")[0]:
        raise WebmentionInvalid("source and target must differ")
    post = post_for_url(target.split("#")[0], request_host=request_host)
    if post is None:
        raise WebmentionInvalid("target is not a post on this site")
    if not linkbacks_open(post=post):
        raise WebmentionInvalid("this post does not accept Webmentions")
    if rate_limited(ip_address=ip_address, scope="webmention"):
        raise WebmentionRateLimited("too many Webmentions from your address; try again later")
    with transaction.atomic():
        request = WebmentionRequest.objects.create(source=source, target=target, post=post)
        request_id = request.pk
        transaction.on_commit(lambda: verify_webmention.enqueue(request_id))
    return request, post


def webmention_verify(*, request: WebmentionRequest) -> str:
    """Fetch the source within limits; store, update or remove the mention. Returns the new state."""
    State = WebmentionRequest.State
    post = request.post
    try:
        response = fetch(request.source)
    except FetchFailed as exc:
        return _finish(request, State.FAILED, str(exc))
    if response.status == 410:
        removed = linkback_remove(post=post, kind=CommentKind.WEBMENTION, source_url=request.source)
        return _finish(request, State.REMOVED, f"source answered 410; removed {removed}")
    if response.status >= 400:
        return _finish(request, State.FAILED, f"source answered {response.status}")
    page = read_source(response, request.target)
    if not page.links_to_target:
        removed = linkback_remove(post=post, kind=CommentKind.WEBMENTION, source_url=request.source)
        state = State.REMOVED if removed else State.REJECTED
        return _finish(request, state, "source does not link to the target")
    linkback_save(
        post=post,
        kind=CommentKind.WEBMENTION,
        data=LinkbackData(
            source_url=request.source, title=page.title, excerpt=page.excerpt, author_name=page.author
        ),
    )
    return _finish(request, State.ACCEPTED, "")


def _finish(request: WebmentionRequest, state: str, detail: str) -> str:
    request.state = state
    request.detail = detail[:2000]
    request.processed_at = timezone.now()
    request.save(update_fields=["state", "detail", "processed_at"])
    return state
