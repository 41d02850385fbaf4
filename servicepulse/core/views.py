from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from servicepulse.core.selectors import health as health_report


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Public liveness/readiness probe: 200 when ok, 503 otherwise."""
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
