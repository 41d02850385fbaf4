"""The service board and the service page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from servicepulse.accounts.roles import Role, role_required
from servicepulse.catalog.models import Service
from servicepulse.dashboard.forms import is_htmx
from servicepulse.dashboard.selectors import board_rows, service_overview
from servicepulse.incidents.selectors import term_calendar_ends
from servicepulse.sources.models import Source


@role_required(Role.VIEWER)
def board(request: HttpRequest) -> HttpResponse:
    rows = board_rows()
    if is_htmx(request):
        return render(request, "dashboard/_board_rows.html", {"rows": rows})
    context = {
        "rows": rows,
        "has_sources": Source.objects.exists(),
        "calendar_ends": term_calendar_ends(now=timezone.now()),
        "now": timezone.now(),
    }
    return render(request, "dashboard/board.html", context)


@role_required(Role.VIEWER)
def service_detail(request: HttpRequest, service_id: str) -> HttpResponse:
    service = get_object_or_404(Service, id=service_id)
    return render(request, "dashboard/service.html", {"o": service_overview(service=service)})
