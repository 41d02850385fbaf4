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
from servicepulse.sources.webhooks import WebhookRejected, failure_record, failures_exceeded

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
    # Checking a signature is cheap, so every delivery is checked: a correctly signed one is stored even
    # when the same address (a proxy, the platform's shared egress) sent many refused ones; past the limit,
    # refusals are answered 429 so that a guesser is told to slow down.
    throttled = failures_exceeded(source, request)
    try:
        return connector.receive(request)
    except WebhookRejected as exc:
        log.warning("webhook for %s refused (%s): %s", source.name, exc.status, exc.reason)
        failure_record(source, request)
        if throttled:
            response = JsonResponse({"error": "too many refused deliveries from this address"}, status=429)
            response["Retry-After"] = "60"
            return response
        return JsonResponse({"error": exc.reason}, status=exc.status)


# -- report-a-problem widget ---------------------------------------------------------------------------------

WIDGET_MAX_BODY = 8 * 1024


def _widget_or_404(source_name: str):  # type: ignore[no-untyped-def]
    from servicepulse.sources.connectors.widget.reports import widget_source

    source = widget_source(source_name)
    if source is None:
        raise Http404("no such widget")
    return source


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Vary"] = "Origin"
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, X-Widget-Token"
        response["Access-Control-Max-Age"] = "600"
    return response


def _refused(exc: Exception, origin: str) -> HttpResponse:
    from servicepulse.sources.connectors.widget.reports import WidgetRefused

    assert isinstance(exc, WidgetRefused)
    response = JsonResponse(exc.body(), status=exc.status)
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return _cors(response, origin)


@require_http_methods(["GET", "HEAD"])
def widget_embed(request: HttpRequest, source_name: str) -> HttpResponse:
    """The embeddable script (static JavaScript but for its one sentence in the form's language; it finds its
    endpoints from its own address)."""
    from servicepulse.sources.connectors.widget.client import embed_script
    from servicepulse.sources.connectors.widget.reports import form_language

    source = _widget_or_404(source_name)
    response = HttpResponse(
        embed_script(form_language(source)), content_type="text/javascript; charset=utf-8"
    )
    response["Cache-Control"] = "public, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@csrf_exempt
@require_http_methods(["GET", "OPTIONS"])
def widget_session(request: HttpRequest, source_name: str) -> HttpResponse:
    """A reporter token (kept by the browser), the services to choose from and the problem types."""
    from servicepulse.sources.connectors.widget import reports

    source = _widget_or_404(source_name)
    origin = ""
    try:
        origin = reports.check_origin(source, request)
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204), origin)
        reports.check_rate(source, request, loading=True)
    except reports.WidgetRefused as exc:
        return _refused(exc, origin)  # with CORS for an allowed page, so the form can say why
    response = JsonResponse(reports.session_payload(source, request))
    response["Cache-Control"] = "no-store"
    return _cors(response, origin)


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def widget_report(request: HttpRequest, source_name: str) -> HttpResponse:
    """One report. CSRF-exempt: a signed reporter token, the origin allow-list and a rate limit guard it."""
    from servicepulse.sources.connectors.widget import reports
    from servicepulse.sources.webhooks import WebhookRejected, decode_json, read_body

    source = _widget_or_404(source_name)
    origin = ""
    try:
        origin = reports.check_origin(source, request)
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204), origin)
        reports.check_rate(source, request)
        try:
            body = read_body(request, limit=WIDGET_MAX_BODY)
        except WebhookRejected as exc:
            raise reports.WidgetRefused(exc.status, exc.reason) from None
        payload, error = decode_json(body)
        if error:
            raise reports.WidgetRefused(400, error)
        outcome = reports.report_submit(source, request, payload)
    except reports.WidgetRefused as exc:
        return _refused(exc, origin)
    status = 201 if outcome.counted else 200
    return _cors(JsonResponse(outcome.body(), status=status), origin)
