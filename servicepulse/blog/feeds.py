"""Atom (RFC 4287) and RSS 2.0 feeds of posts, and per-post comment feeds threaded with RFC 4685."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import feedgenerator, timezone
from django.utils.html import escape

from servicepulse.blog.markup import absolutize_post_urls
from servicepulse.blog.models import Comment, Post
from servicepulse.blog.selectors import site_url

THREAD_NS = "http://purl.org/syndication/thread/1.0"


class AtomFeed(feedgenerator.Atom1Feed):
    """Atom with `<content type="html">` per entry, and RFC 4685 `thr:in-reply-to` when an item has one."""

    def root_attributes(self) -> dict[str, str]:
        attrs = super().root_attributes()
        if self.feed.get("threaded"):
            attrs["xmlns:thr"] = THREAD_NS
        return attrs

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        if item.get("content_html"):
            handler.addQuickElement("content", item["content_html"], {"type": "html"})
        replies = item.get("replies")
        if replies:
            # RFC 4685 §4: where the entry's replies are, and how many there are.
            handler.addQuickElement(
                "link",
                "",
                {
                    "rel": "replies",
                    "type": "application/atom+xml",
                    "href": replies["href"],
                    "thr:count": str(replies["count"]),
                },
            )
        reply = item.get("in_reply_to")
        if reply:
            handler.addQuickElement(
                "thr:in-reply-to", "", {"ref": reply["ref"], "href": reply["href"], "type": "text/html"}
            )


def posts_feed(request: HttpRequest, *, posts: list[Post], rss: bool = False) -> HttpResponse:
    from django.urls import reverse

    feed_class = feedgenerator.Rss201rev2Feed if rss else AtomFeed
    self_url = site_url(reverse("blog:rss" if rss else "blog:feed"))
    feed = feed_class(
        title=f"{settings.SERVICEPULSE_ORGANISATION} — IT leader's blog",
        link=site_url(reverse("blog:index")),
        description="Posts from the IT leadership team, with your comments.",
        feed_url=self_url,
        feed_guid=site_url(reverse("blog:index")),
        language="en",
        author_name=settings.SERVICEPULSE_ORGANISATION,
        threaded=not rss,
    )
    for post in posts:
        url = site_url(post.get_absolute_url())
        # Atom: the excerpt (plain text, escaped for its type="html") is the summary; a post without one has
        # none, rather than an empty summary that readers show in place of the content.
        summary = escape(post.excerpt) if post.excerpt.strip() else None
        # Relative `img/a.png` or `/media/x.png` mean something only on the post's page: resolved against it.
        body = absolutize_post_urls(post.body_html, base=url)
        feed.add_item(
            title=post.title,
            link=url,
            # The stubs type description as str; feedgenerator leaves the summary out for None.
            description=body if rss else summary,  # type: ignore[arg-type]
            unique_id=url,
            unique_id_is_permalink=True,
            pubdate=post.published_at,
            updateddate=max(post.updated_at, post.published_at) if post.published_at else post.updated_at,
            author_name=(post.author.get_full_name() or post.author.get_username()) if post.author else None,
            categories=[tag.name for tag in post.tags.all()],
            content_html=None if rss else body,
            replies={
                "href": site_url(reverse("blog:comments_feed", kwargs={"slug": post.slug})),
                "count": getattr(post, "approved_comments", 0) or 0,
            },
        )
    if not posts:
        # RFC 4287 needs atom:updated even for an empty feed; feedgenerator takes it from the items.
        feed.latest_post_date = lambda: timezone.now()  # type: ignore[method-assign]
    response = HttpResponse(content_type=f"{feed.content_type}")
    feed.write(response, "utf-8")
    return response


def comments_feed(request: HttpRequest, *, post: Post, comments: list[Comment]) -> HttpResponse:
    from django.urls import reverse

    post_url = site_url(post.get_absolute_url())
    feed = AtomFeed(
        title=f"Comments on “{post.title}”",
        link=post_url,
        description="",
        feed_url=site_url(reverse("blog:comments_feed", kwargs={"slug": post.slug})),
        feed_guid=f"{post_url}#comments",
        language="en",
        threaded=True,
    )
    for comment in comments:
        url = site_url(comment.get_absolute_url())
        if comment.parent is not None:
            reply = {"ref": site_url(comment.parent.get_absolute_url()), "href": ""}
            reply["href"] = reply["ref"]
        else:
            reply = {"ref": post_url, "href": post_url}
        feed.add_item(
            title=f"{comment.author_name} on “{post.title}”",
            link=url,
            description=None,  # type: ignore[arg-type]  # the comment is the content: no empty summary
            unique_id=url,
            pubdate=comment.created_at,
            updateddate=comment.edited_at or comment.created_at,
            author_name=comment.author_name,
            author_link=comment.author_url or None,
            content_html=comment.body_html,
            in_reply_to=reply,
        )
    if not comments:
        feed.latest_post_date = lambda: post.updated_at  # type: ignore[method-assign]
    response = HttpResponse(content_type=feed.content_type)
    feed.write(response, "utf-8")
    return response
