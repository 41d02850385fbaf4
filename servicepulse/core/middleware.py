"""Middleware of the core app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from servicepulse.core.views import health

HEALTH_PATH = "/health/"


def health_probe(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Answer `/health/` before host validation and the HTTPS redirect.

    Load balancers and monitoring probe each web process at its own address over plain HTTP (`Host:
    10.0.0.5:8000`, no `X-Forwarded-Proto`): past `ALLOWED_HOSTS` and `SECURE_SSL_REDIRECT` they would get 400
    or 301 and take every healthy process out of service. The health report names no host and links nowhere, so
    it is safe to give at any address; every other path goes through the full stack.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH:
            return health(request)
        return get_response(request)

    return middleware
