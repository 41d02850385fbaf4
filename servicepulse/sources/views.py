"""Public endpoints of the sources app: webhook deliveries and the report-a-problem widget.

Views are thin: they find the source and hand the request to its connector (webhooks) or to the widget's
services. Both are CSRF-exempt on purpose: a webhook proves itself by its signature, the widget by its signed
reporter token, its CORS allow-list and its rate limit (see SECURITY.md).
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from servicepulse.sources.models import Source
from servicepulse.sources.registry import ConnectorError, connector_for
from servicepulse.sources.webhooks import WebhookRejected

log = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, source_name: str) -> HttpResponse:
    """One delivery for the source `source_name`, checked and stored by its connector's `receive`."""
    source = Source.objects.filter(name=source_name, enabled=True).first()
    if source is None:
        raise Http404("no such source")
    try:
        connector = connector_for(source)
    except ConnectorError:
        raise Http404("no such source") from None
    if not connector.can_receive:
        raise Http404("this source does not receive webhooks")
    try:
        return connector.receive(request)
    except WebhookRejected as exc:
        log.warning("webhook for %s refused (%s): %s", source.name, exc.status, exc.reason)
        return JsonResponse({"error": exc.reason}, status=exc.status)
