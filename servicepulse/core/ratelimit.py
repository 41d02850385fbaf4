"""Rate limits for public endpoints, counted in Django's cache (Redis in production).

Use `@rate_limit("widget", limit=30, per=60)` on a view, or `rate_limit_hit(...)` inside one. Requests over
the limit get 429 with Retry-After. The key is the client address: REMOTE_ADDR, or, when that is one of
`SERVICEPULSE_TRUSTED_PROXIES`, the nearest address in X-Forwarded-For that is not a trusted proxy (read from
the right, so a client cannot forge it by sending its own header). IPv6 clients are counted by their /64.
The cache holds a keyed hash of the key, never the address (or e-mail) itself.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse


def _trusted(address: str, proxies: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    for proxy in proxies:
        try:
            if ip in ipaddress.ip_network(proxy.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request: HttpRequest) -> str:
    """Who sent the request, for rate limits: behind a trusted proxy, the client it forwarded for."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = list(getattr(settings, "SERVICEPULSE_TRUSTED_PROXIES", []) or [])
    if not proxies or not _trusted(remote, proxies):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):  # the right-most entries were added by our own proxies
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else remote


def _budget_key(key: str) -> str:
    """An IPv6 client counts by its /64: one subscriber, home or cloud host is given a whole /64, so counting
    each address would let it take a fresh budget for every request. Other keys (IPv4, e-mail) as they are."""
    try:
        ip = ipaddress.ip_address(key)
    except ValueError:
        return key
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return key


def _window_key(scope: str, key: str, per: int) -> str:
    # The cache (a database table without Redis) holds a keyed hash of the address or e-mail, not the value
    # itself: counting needs no one's IP address in clear.
    budget = hmac.new(f"{settings.SECRET_KEY}:ratelimit".encode(), _budget_key(key).encode(), hashlib.sha256)
    return f"rl:{scope}:{budget.hexdigest()[:32]}:{int(time.time() // per)}"


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
