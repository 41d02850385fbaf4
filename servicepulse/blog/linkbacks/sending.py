"""Sending linkbacks when a post is published or updated: discover each linked page's endpoints as the
Webmention Recommendation says and send a Webmention, else a Pingback. Pages the post linked before and no
longer links are notified too, so they can drop the mention."""

from __future__ import annotations

import logging
import xmlrpc.client
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from servicepulse.blog.fetching import FetchFailed, fetch, post_body, post_form
from servicepulse.blog.linkbacks.discovery import outbound_links, pingback_endpoint, webmention_endpoint
from servicepulse.blog.models import LinkbackProtocol, Post, SentLinkback

logger = logging.getLogger(__name__)


@dataclass
class SendResult:
    target: str
    protocol: str
    endpoint: str = ""
    result: str = ""


def post_url(post: Post) -> str:
    return f"{settings.BASE_URL}{post.get_absolute_url()}"


def discover(target: str) -> tuple[str, str]:
    """(protocol, endpoint) for a target page: Webmention first, then Pingback, else ("none", "")."""
    response = fetch(target)
    endpoint = webmention_endpoint(response)
    if endpoint:
        return LinkbackProtocol.WEBMENTION, endpoint
    endpoint = pingback_endpoint(response)
    if endpoint:
        return LinkbackProtocol.PINGBACK, endpoint
    return LinkbackProtocol.NONE, ""


def send_webmention(*, endpoint: str, source: str, target: str) -> str:
    response = post_form(endpoint, {"source": source, "target": target})
    return f"HTTP {response.status}"


def send_pingback(*, endpoint: str, source: str, target: str) -> str:
    body = xmlrpc.client.dumps((source, target), methodname="pingback.ping").encode()
    response = post_body(endpoint, body, content_type="text/xml")
    try:
        (answer,), _method = xmlrpc.client.loads(response.text)
    except xmlrpc.client.Fault as fault:
        return f"fault {fault.faultCode}: {fault.faultString}"[:500]
    except Exception:
        return f"HTTP {response.status}: not an XML-RPC answer"
    return str(answer)[:500]


def linkbacks_send(*, post: Post) -> list[SendResult]:
    """Notify every page the post links (and every page it used to link) of the post."""
    if not post.is_published:
        return []
    source = post_url(post)
    current = outbound_links(post.body_html, base=source)
    previous = list(SentLinkback.objects.filter(post=post).values_list("target", flat=True))
    results: list[SendResult] = []
    for target in dict.fromkeys([*current, *previous]):
        try:
            protocol, endpoint = discover(target)
            if protocol == LinkbackProtocol.WEBMENTION:
                outcome = send_webmention(endpoint=endpoint, source=source, target=target)
            elif protocol == LinkbackProtocol.PINGBACK:
                outcome = send_pingback(endpoint=endpoint, source=source, target=target)
            else:
                outcome = "no endpoint"
        except FetchFailed as exc:
            protocol, endpoint, outcome = LinkbackProtocol.NONE, "", f"failed: {exc}"
        results.append(SendResult(target=target, protocol=protocol, endpoint=endpoint, result=outcome))
        SentLinkback.objects.update_or_create(
            post=post,
            target=target[:1000],
            defaults={
                "protocol": protocol,
                "endpoint": endpoint[:1000],
                "result": outcome[:500],
                "sent_at": timezone.now(),
            },
        )
    return results
