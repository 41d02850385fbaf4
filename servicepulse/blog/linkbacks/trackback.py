"""Trackback 1.2 receiving: a form POST of url (required), title, excerpt, blog_name; an XML answer."""

from __future__ import annotations

from xml.sax.saxutils import escape

from servicepulse.blog.models import CommentKind, Post
from servicepulse.blog.services import LinkbackData, linkback_save, linkbacks_open
from servicepulse.blog.spam import rate_limited


def trackback_response(error: str | None = None) -> str:
    """The XML body Trackback 1.2 specifies: error 0 on success, else 1 with a message."""
    if error is None:
        return '<?xml version="1.0" encoding="utf-8"?>\n<response>\n<error>0</error>\n</response>\n'
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<response>\n<error>1</error>\n'
        f"<message>{escape(error)}</message>\n</response>\n"
    )


def trackback_receive(
    *,
    post: Post | None,
    url: str,
    title: str = "",
    excerpt: str = "",
    blog_name: str = "",
    ip_address: str | None,
) -> str | None:
    """Store a trackback; returns None on success or the error message to send back."""
    if post is None:
        return "No such post."
    if not linkbacks_open(post=post):
        return "This post does not accept trackbacks."
    url = (url or "").strip()
    if not url.startswith(("http://", "https://")):
        return "A url parameter (http or https) is required."
    if rate_limited(ip_address=ip_address, scope="trackback"):
        return "Too many trackbacks from your address."
    linkback_save(
        post=post,
        kind=CommentKind.TRACKBACK,
        data=LinkbackData(
            source_url=url[:1000],
            title=(title or url)[:300],
            excerpt=excerpt[:1000],
            author_name=blog_name[:200],
            ip_address=ip_address,
        ),
    )
    return None
