"""Rate limits for public endpoints, counted in Django's cache (Redis in production).

Use `@rate_limit("widget", limit=30, per=60)` on a view, or `rate_limit_hit(...)` inside one. Requests over
the limit get 429 with Retry-After. The key is the client address (REMOTE_ADDR; put the proxy's
X-Forwarded-For handling in the proxy, not here, so clients cannot forge it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _window_key(scope: str, key: str, per: int) -> str:
    return f"rl:{scope}:{key}:{int(time.time() // per)}"


def rate_limit_count(*, scope: str, key: str, per: int) -> int:
    """How many hits `key` has in the current window, without counting one."""
    return int(cache.get(_window_key(scope, key, per)) or 0)


def rate_limit_hit(*, scope: str, key: str, limit: int, per: int) -> int | None:
    """Count one request; return None when allowed, else the seconds until the window resets."""
    cache_key = _window_key(scope, key, per)
    if cache.add(cache_key, 1, timeout=per + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.set(cache_key, 1, timeout=per + 1)
            count = 1
    if count > limit:
        return max(1, per - int(time.time()) % per)
    return None


def rate_limit(
    scope: str, *, limit: int, per: int, methods: tuple[str, ...] = ("POST",)
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Limit a view to `limit` requests per `per` seconds per client address (for the given methods)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                retry = rate_limit_hit(scope=scope, key=client_address(request), limit=limit, per=per)
                if retry is not None:
                    response = HttpResponse("Too many requests; try again later.\n", status=429)
                    response["Retry-After"] = str(retry)
                    return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
