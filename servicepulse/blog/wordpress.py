"""WordPress export (WXR 1.1/1.2) import: authors, posts, comments with their threading, pingbacks and
trackbacks. Idempotent: every row carries an import key (`wxr:<site>:post:<id>`), so re-running adds nothing.
Broken items are reported and skipped; the rest of the file still imports."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element  # types only; parsing goes through defusedxml

from defusedxml import ElementTree
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from servicepulse.blog.markup import render_comment, render_markdown
from servicepulse.blog.models import Comment, CommentKind, CommentStatus, Post, PostStatus
from servicepulse.blog.services import _unique_slug, comment_sync_mention, tags_set
from servicepulse.core.http import safe_url

logger = logging.getLogger(__name__)

NS = {
    "wp": "http://wordpress.org/export/1.2/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
STATUS_MAP = {
    "publish": PostStatus.PUBLISHED,
    "future": PostStatus.SCHEDULED,
    "draft": PostStatus.DRAFT,
    "pending": PostStatus.DRAFT,
    "private": PostStatus.DRAFT,
}
COMMENT_STATUS = {
    "1": CommentStatus.APPROVED,
    "approve": CommentStatus.APPROVED,
    "0": CommentStatus.PENDING,
    "hold": CommentStatus.PENDING,
    "spam": CommentStatus.SPAM,
    "trash": CommentStatus.TRASH,
}
COMMENT_KIND = {
    "": CommentKind.COMMENT,
    "comment": CommentKind.COMMENT,
    "pingback": CommentKind.PINGBACK,
    "trackback": CommentKind.TRACKBACK,
    "webmention": CommentKind.WEBMENTION,
}


@dataclass
class ImportReport:
    authors: int = 0
    posts: int = 0
    comments: int = 0
    linkbacks: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "authors": self.authors,
            "posts": self.posts,
            "comments": self.comments,
            "linkbacks": self.linkbacks,
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
        }


class WXRError(ValueError):
    """The file is not a WordPress export at all."""


def _text(element: Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path, NS)
    return (found.text or "").strip() if found is not None and found.text else ""


def _raw(element: Element, path: str) -> str:
    found = element.find(path, NS)
    return found.text or "" if found is not None else ""


def _gmt(value: str) -> datetime | None:
    """WXR's *_gmt fields: 'YYYY-MM-DD HH:MM:SS' in UTC; '0000-00-00 00:00:00' for never."""
    if not value or value.startswith("0000"):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"bad date {value!r}") from exc


def _local(value: str) -> datetime | None:
    """A WXR local-time field, read in the site's time zone when the GMT twin is missing."""
    if not value or value.startswith("0000"):
        return None
    try:
        naive = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 - made aware just below
    except ValueError as exc:
        raise ValueError(f"bad date {value!r}") from exc
    return timezone.make_aware(naive, timezone.get_default_timezone())


def _when(element: Element, gmt_path: str, local_path: str) -> datetime | None:
    return _gmt(_text(element, gmt_path)) or _local(_text(element, local_path))


def wxr_import(*, path: Path | str) -> ImportReport:
    """Import a WXR file. Returns what was added and what was skipped (with reasons)."""
    try:
        tree = ElementTree.parse(str(path))
    except ElementTree.ParseError as exc:
        raise WXRError(f"not a readable XML file: {exc}") from exc
    channel = tree.getroot().find("channel")
    if channel is None:
        raise WXRError("no <channel>: not a WordPress export (WXR)")
    version = _text(channel, "wp:wxr_version")
    if not version:
        raise WXRError("no <wp:wxr_version>: not a WordPress export (WXR)")
    site = _text(channel, "wp:base_blog_url") or _text(channel, "link") or "wordpress"
    report = ImportReport()
    authors = _import_authors(channel, site=site, report=report)
    for position, item in enumerate(channel.findall("item"), start=1):
        post_type = _text(item, "wp:post_type") or "post"
        if post_type != "post":
            continue
        label = f"item {position} ({_text(item, 'title') or 'untitled'})"
        try:
            with transaction.atomic():
                _import_item(item, site=site, authors=authors, report=report, label=label)
        except (ValueError, IntegrityError) as exc:
            report.skipped.append(f"{label}: {exc}")
    return report


def _import_authors(channel: Element, *, site: str, report: ImportReport) -> dict[str, Any]:
    users: dict[str, Any] = {}
    model = get_user_model()
    for author in channel.findall("wp:author", NS):
        login = _text(author, "wp:author_login")
        if not login:
            report.skipped.append("author without a login")
            continue
        username = f"wp-{login}"[:150]
        user = model.objects.filter(username=username).first()
        if user is None:
            user = model(
                username=username,
                email=_text(author, "wp:author_email"),
                first_name=_text(author, "wp:author_first_name")[:150],
                last_name=_text(author, "wp:author_last_name")[:150],
            )
            if not user.first_name and not user.last_name:
                user.first_name = _text(author, "wp:author_display_name")[:150]
            user.set_unusable_password()  # imported authors sign in only once an admin gives them a password
            user.save()
            report.authors += 1
        users[login] = user
    return users


def _import_item(
    item: Element, *, site: str, authors: dict[str, Any], report: ImportReport, label: str
) -> None:
    wp_id = _text(item, "wp:post_id")
    title = _text(item, "title")
    if not wp_id:
        raise ValueError("no wp:post_id")
    if not title:
        raise ValueError("no title")
    key = f"wxr:{site}:post:{wp_id}"
    status = STATUS_MAP.get(_text(item, "wp:status"), PostStatus.DRAFT)
    published = _when(item, "wp:post_date_gmt", "wp:post_date")
    post = Post.objects.filter(import_key=key).first()
    if post is None:
        body = _raw(item, "content:encoded")
        post = Post(
            title=title[:300],
            slug=_unique_slug(title, wanted=_text(item, "wp:post_name")),
            author=authors.get(_text(item, "dc:creator")),
            # WordPress stores HTML; Markdown passes HTML through and nh3 cleans it: keep it as the source.
            body_markdown=body,
            body_html=render_markdown(body),
            excerpt=_raw(item, "excerpt:encoded").strip(),
            status=status,
            comments_enabled=_text(item, "wp:comment_status") != "closed",
            pings_enabled=_text(item, "wp:ping_status") != "closed",
            import_key=key,
        )
        if status == PostStatus.PUBLISHED:
            if published is None:
                raise ValueError("published post without a date")
            post.published_at = published
        elif status == PostStatus.SCHEDULED:
            post.publish_at = published
            if published is None:
                post.status = PostStatus.DRAFT
        post.created_at = published or timezone.now()
        post.updated_at = post.created_at
        post.save()
        tags = [
            (category.text or "").strip()
            for category in item.findall("category")
            if category.get("domain") in {"post_tag", "category"} and (category.text or "").strip()
        ]
        tags_set(post=post, names=[t for t in dict.fromkeys(tags) if t.lower() != "uncategorized"])
        report.posts += 1
    else:
        report.unchanged += 1
    _import_comments(item, post=post, site=site, report=report, label=label)


def _import_comments(item: Element, *, post: Post, site: str, report: ImportReport, label: str) -> None:
    rows = item.findall("wp:comment", NS)
    by_wp_id: dict[str, Comment] = {
        c.import_key.rsplit(":", 1)[1]: c
        for c in Comment.objects.filter(post=post, import_key__startswith=f"wxr:{site}:comment:")
    }
    pending: list[Element] = list(rows)
    # Parents may come after their replies in the file: place what we can, repeat while progress is made.
    while pending:
        progress = False
        later: list[Element] = []
        for row in pending:
            wp_id = _text(row, "wp:comment_id")
            if not wp_id:
                report.skipped.append(f"{label}: a comment without wp:comment_id")
                progress = True
                continue
            if wp_id in by_wp_id:
                progress = True
                continue
            parent_id = _text(row, "wp:comment_parent")
            parent = None
            if parent_id and parent_id != "0":
                parent = by_wp_id.get(parent_id)
                if parent is None and any(_text(r, "wp:comment_id") == parent_id for r in pending):
                    later.append(row)
                    continue
            try:
                with transaction.atomic():
                    comment = _import_comment(row, post=post, parent=parent, site=site, wp_id=wp_id)
            except (ValueError, IntegrityError) as exc:
                report.skipped.append(f"{label}: comment {wp_id}: {exc}")
                progress = True
                continue
            by_wp_id[wp_id] = comment
            if comment.kind == CommentKind.COMMENT:
                report.comments += 1
            else:
                report.linkbacks += 1
            progress = True
        if not progress:
            for row in later:
                report.skipped.append(
                    f"{label}: comment {_text(row, 'wp:comment_id')}: its parent is missing"
                )
            break
        pending = later


def _import_comment(row: Element, *, post: Post, parent: Comment | None, site: str, wp_id: str) -> Comment:
    created = _when(row, "wp:comment_date_gmt", "wp:comment_date")
    if created is None:
        raise ValueError("no date")
    kind = COMMENT_KIND.get(_text(row, "wp:comment_type"))
    if kind is None:
        raise ValueError(f"unknown comment type {_text(row, 'wp:comment_type')!r}")
    status = COMMENT_STATUS.get(_text(row, "wp:comment_approved"), CommentStatus.PENDING)
    body = _raw(row, "wp:comment_content").strip()
    author = _text(row, "wp:comment_author")
    url = safe_url(_text(row, "wp:comment_author_url"))
    if kind == CommentKind.COMMENT and not body:
        raise ValueError("empty comment")
    if kind != CommentKind.COMMENT and not url:
        raise ValueError(f"{kind} without a source URL")
    ip = _text(row, "wp:comment_author_IP") or None
    if ip:
        import ipaddress

        try:
            ipaddress.ip_address(ip)
        except ValueError:
            ip = None
    comment = Comment.objects.create(
        post=post,
        parent=parent,
        depth=(parent.depth + 1) if parent else 1,
        kind=kind,
        status=status,
        author_name=(author or url or "Anonymous")[:200],
        author_email=_text(row, "wp:comment_author_email")[:254],
        author_url=url[:1000],
        body=body if kind == CommentKind.COMMENT else _plain(body),
        body_html=render_comment(body) if kind == CommentKind.COMMENT else "",
        source_url=url[:1000] if kind != CommentKind.COMMENT else "",
        title=(author[:300] if kind != CommentKind.COMMENT else ""),
        ip_address=ip,
        created_at=created,
        import_key=f"wxr:{site}:comment:{wp_id}",
    )
    if comment.status == CommentStatus.APPROVED:
        comment_sync_mention(comment=comment)
    return comment


def _plain(html: str) -> str:
    from servicepulse.blog.markup import html_to_text

    return html_to_text(html)[:1000]
