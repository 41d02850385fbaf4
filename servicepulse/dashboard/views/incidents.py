"""Incidents: list and detail (timeline, explanation, attached posts, affected authors)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from servicepulse.accounts.roles import Role, role_required
from servicepulse.dashboard.selectors import incident_page, incident_queryset


@role_required(Role.VIEWER)
def incident_list(request: HttpRequest) -> HttpResponse:
    qs = incident_queryset(state=request.GET.get("state", ""), service_id=request.GET.get("service", ""))
    page = Paginator(qs, 50).get_page(request.GET.get("page")) if qs is not None else None
    return render(request, "dashboard/incidents.html", {"page": page, "available": qs is not None})


@role_required(Role.VIEWER)
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    detail = incident_page(pk=pk)
    if detail is None:
        raise Http404("no such incident")
    return render(request, "dashboard/incident.html", {"d": detail})
