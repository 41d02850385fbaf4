"""Pingback 1.0 server: `pingback.ping(sourceURI, targetURI)` through Python's XML-RPC dispatcher.

Faults, as the specification numbers them: 0 generic, 16 source does not exist, 17 source has no link to the
target, 32 target does not exist, 33 target cannot be used as a target, 48 already registered, 49 access
denied, 50 upstream server error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from xmlrpc.client import Fault
from xmlrpc.server import SimpleXMLRPCDispatcher

from servicepulse.blog.fetching import FetchFailed, FetchRefused, fetch
from servicepulse.blog.linkbacks.discovery import read_source
from servicepulse.blog.models import Comment, CommentKind
from servicepulse.blog.selectors import post_for_url, post_slug_for_url, url_is_ours
from servicepulse.blog.services import LinkbackData, linkback_save, linkbacks_open
from servicepulse.blog.spam import rate_limited

logger = logging.getLogger(__name__)

GENERIC = 0
SOURCE_MISSING = 16
NO_LINK = 17
TARGET_MISSING = 32
TARGET_INVALID = 33
ALREADY_REGISTERED = 48
ACCESS_DENIED = 49
UPSTREAM_ERROR = 50
MAX_SOURCE_LENGTH = 1000  # Comment.source_url


def ping(source: str, target: str, *, request_host: str | None = None, ip_address: str | None = None) -> str:
    """Register a pingback, or raise the specification's Fault."""
    if not isinstance(source, str) or not isinstance(target, str):
        raise Fault(GENERIC, "sourceURI and targetURI must be strings")
    if not source.startswith(("http://", "https://")) or len(source) > MAX_SOURCE_LENGTH:
        # Longer than Comment.source_url holds: PostgreSQL refused it once the page had been fetched.
        raise Fault(SOURCE_MISSING, "The source URI does not exist.")
    slug = post_slug_for_url(target, request_host=request_host)
    if slug is None:
        if url_is_ours(target, request_host=request_host):
            # A page of ours that is not a post (the index, a tag page) cannot take pingbacks.
            raise Fault(TARGET_INVALID, "The specified target URI cannot be used as a target.")
        raise Fault(TARGET_MISSING, "The specified target URI does not exist.")
    post = post_for_url(target, request_host=request_host)
    if post is None:
        raise Fault(TARGET_MISSING, "The specified target URI does not exist.")
    if not linkbacks_open(post=post):
        raise Fault(TARGET_INVALID, "The specified target URI cannot be used as a target.")
    if source.split("#")[0].rstrip("/") == target.split("#")[0].rstrip("/"):
        raise Fault(TARGET_INVALID, "The source and the target are the same page.")
    if Comment.objects.filter(post=post, kind=CommentKind.PINGBACK, source_url=source).exists():
        raise Fault(ALREADY_REGISTERED, "The pingback has already been registered.")
    if rate_limited(ip_address=ip_address, scope="pingback"):
        raise Fault(ACCESS_DENIED, "Access denied.")
    try:
        response = fetch(source)
    except FetchRefused as exc:
        # The guard's reason names the address the source's host resolved to: told to anyone, that maps the
        # organisation's internal names. The caller learns only that the source is not fetchable.
        logger.info("pingback source %s refused: %s", source, exc)
        raise Fault(ACCESS_DENIED, "Access denied: the source URI is not on a public address.") from exc
    except FetchFailed as exc:
        raise Fault(UPSTREAM_ERROR, f"Could not fetch the source URI: {exc}") from exc
    if response.status in {404, 410} or 400 <= response.status < 500:
        raise Fault(SOURCE_MISSING, "The source URI does not exist.")
    if response.status >= 500:
        raise Fault(UPSTREAM_ERROR, f"The source server answered {response.status}.")
    page = read_source(response, target)
    if not page.links_to_target:
        raise Fault(NO_LINK, "The source URI does not contain a link to the target URI.")
    _comment, created = linkback_save(
        post=post,
        kind=CommentKind.PINGBACK,
        data=LinkbackData(
            source_url=source,
            title=page.title,
            excerpt=page.excerpt,
            author_name=page.author,
            ip_address=ip_address,
        ),
    )
    if not created:
        raise Fault(ALREADY_REGISTERED, "The pingback has already been registered.")
    return f"Pingback from {source} to {target} registered. Thanks for the link."


def _guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    """Anything but a Fault from our code becomes fault 0, as the specification's generic fault."""

    def call(*args: Any) -> Any:
        try:
            return function(*args)
        except Fault:
            raise
        except TypeError as exc:
            raise Fault(GENERIC, f"bad parameters: {exc}") from exc
        except Exception as exc:
            logger.exception("pingback failed")
            raise Fault(GENERIC, "The pingback could not be processed.") from exc

    return call


def dispatcher(*, request_host: str | None, ip_address: str | None) -> SimpleXMLRPCDispatcher:
    """An XML-RPC dispatcher for one request (the pingback needs the request's host and address)."""
    rpc = SimpleXMLRPCDispatcher(allow_none=False, encoding="utf-8", use_builtin_types=False)
    rpc.register_function(
        _guarded(
            lambda source, target: ping(source, target, request_host=request_host, ip_address=ip_address)
        ),
        "pingback.ping",
    )
    rpc.register_function(_guarded(_pingbacks_of(request_host)), "pingback.extensions.getPingbacks")
    rpc.register_introspection_functions()
    return rpc


def _pingbacks_of(request_host: str | None) -> Callable[[str], list[str]]:
    def get_pingbacks(url: str) -> list[str]:
        post = post_for_url(url, request_host=request_host)
        if post is None:
            raise Fault(TARGET_MISSING, "The specified target URI does not exist.")
        return list(
            Comment.objects.filter(post=post, kind=CommentKind.PINGBACK, status="approved").values_list(
                "source_url", flat=True
            )
        )

    return get_pingbacks
