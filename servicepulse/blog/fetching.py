"""Outbound HTTP for linkbacks, always through the project's guarded fetcher (`servicepulse.core.fetcher`):
address checks on every hop, size, time and redirect limits. This module applies the blog's size and time limits
and sorts the fetcher's errors into "refused" and "failed"; answers are the fetcher's own `FetchResponse`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servicepulse.blog.conf import blog_setting
from servicepulse.core import fetcher


class FetchFailed(Exception):
    """The fetch did not produce an answer (network error, timeout, too large, too many redirects)."""


class FetchRefused(FetchFailed):
    """The guard refused the address (private, loopback, link-local) or the URL."""


def _limits(max_bytes: int | None, timeout: float | None) -> dict[str, Any]:
    return {
        "max_bytes": max_bytes or int(blog_setting("SERVICEPULSE_BLOG_FETCH_MAX_BYTES")),
        "timeout": timeout or float(blog_setting("SERVICEPULSE_BLOG_FETCH_TIMEOUT")),
    }


def _call(url: str, **kwargs: Any) -> fetcher.FetchResponse:
    # Every address fetched here was chosen by someone outside: a Webmention or Pingback source (anyone may
    # send one), an endpoint a remote page names. The private networks SERVICEPULSE_FETCH_ALLOW_NETWORKS opens
    # for the organisation's own feeds stay closed to them: a pingback would otherwise probe that intranet
    # server's ports and paths for anyone, its faults telling what answered.
    try:
        response = fetcher.fetch(url, raise_for_status=False, configured_networks=False, **kwargs)
    except fetcher.AddressRefused as exc:
        raise FetchRefused(str(exc)) from exc
    except fetcher.FetchError as exc:
        if exc.status is None and "only http and https" in str(exc):
            raise FetchRefused(str(exc)) from exc
        raise FetchFailed(str(exc)) from exc
    return response


def fetch(url: str, *, max_bytes: int | None = None, timeout: float | None = None) -> fetcher.FetchResponse:
    """GET `url` (redirects followed within the limit); any HTTP status is an answer."""
    return _call(url, **_limits(max_bytes, timeout))


def post_form(
    url: str, data: Mapping[str, str], *, max_bytes: int | None = None, timeout: float | None = None
) -> fetcher.FetchResponse:
    """POST a form (Webmention)."""
    return _call(url, method="POST", data=dict(data), **_limits(max_bytes, timeout))


def post_body(
    url: str, body: bytes, *, content_type: str, max_bytes: int | None = None, timeout: float | None = None
) -> fetcher.FetchResponse:
    """POST raw bytes (an XML-RPC call)."""
    return _call(
        url,
        method="POST",
        content=body,
        headers={"Content-Type": content_type},
        **_limits(max_bytes, timeout),
    )
