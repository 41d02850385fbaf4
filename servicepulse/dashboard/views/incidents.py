"""Incidents: list and detail (timeline, explanation, attached posts, affected authors) for viewers; opening,
state changes, notes and maintenance windows for responders, through the incidents app's services."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from servicepulse.accounts.roles import Role, has_role, role_required
from servicepulse.catalog.models import Service
from servicepulse.core.forms import tell_time_notes
from servicepulse.core.http import csv_download
from servicepulse.core.times import local_time_text
from servicepulse.dashboard.forms import IncidentNoteForm, IncidentOpenForm, IncidentStateForm
from servicepulse.dashboard.selectors import (
    incident_export_rows,
    incident_growth_chart,
    incident_page,
    incident_queryset,
    maintenance_overlaps,
)
from servicepulse.incidents.models import Incident, IncidentKind
from servicepulse.incidents.selectors import IncidentDetail
from servicepulse.incidents.services import (
    incident_add_note,
    incident_create,
    incident_update_status,
    maintenance_schedule,
)
from servicepulse.status.selectors import detected_publishable, public_incident_id_for

POSTS_PER_PAGE = 25  # attached posts per page of the incident page (a big outage has hundreds)

STATE_FILTERS = [
    ("", "All"),
    ("open", "Open"),
    ("scheduled", "Scheduled"),
    ("possible", "Possible"),
    ("confirmed", "Problem detected"),  # detection's, as the rows' state says; not those opened by hand
    ("resolved", "Resolved"),
    ("manual", "Opened by hand"),
    ("maintenance", "Planned maintenance"),
]


def _service_error(exc: Exception) -> str:
    return str(exc) or exc.__class__.__name__


def _list_page(
    request: HttpRequest, *, open_form: IncidentOpenForm | None = None, status: int = 200
) -> HttpResponse:
    state, service_id = request.GET.get("state", ""), request.GET.get("service", "")
    qs = incident_queryset(state=state, service_id=service_id)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "page": page,
        "state": state,
        "service": service_id,
        "states": STATE_FILTERS,
        "export_query": urlencode({k: v for k, v in (("state", state), ("service", service_id)) if v}),
        "services": Service.objects.values_list("id", "name"),
        "can_respond": has_role(request.user, Role.RESPONDER),
        # Listing one service's incidents, the form opens one on that service unless told otherwise.
        "open_form": open_form or IncidentOpenForm(initial={"service": service_id} if service_id else None),
    }
    return render(request, "dashboard/incidents.html", context, status=status)


@role_required(Role.VIEWER)
def incident_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@role_required(Role.VIEWER)
def incident_export(request: HttpRequest) -> HttpResponse:
    """The incidents the list's filters match, as CSV (for an incident review or a monthly report)."""
    state, service_id = request.GET.get("state", ""), request.GET.get("service", "")
    known = Service.objects.filter(pk=service_id).exists()  # the file's name carries no other text
    name = f"servicepulse-incidents{f'-{service_id}' if known else ''}-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_download(incident_export_rows(state=state, service_id=service_id), filename=name)


@role_required(Role.RESPONDER)
@require_http_methods(["GET", "POST"])
def incident_open(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        # The list shown after a refused form lives at this address: its pager's links come back here.
        query = request.GET.urlencode()
        return redirect(reverse("dashboard:incidents") + (f"?{query}" if query else ""))
    form = IncidentOpenForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["kind"] == "maintenance":
                incident = maintenance_schedule(
                    service_id=data["service"],
                    title=data["title"],
                    start=data["start"],
                    end=data["end"],
                    user=request.user,
                    note=data["comment"],
                )
            else:
                incident = incident_create(
                    service_id=data["service"],
                    title=data["title"],
                    started_at=data["start"],
                    user=request.user,
                    comment=data["comment"],
                )
        except ValueError as exc:
            form.add_error("end" if data["kind"] == "maintenance" else None, _service_error(exc))
        else:
            messages.success(request, f"Opened “{incident}”.")
            tell_time_notes(request, form)  # a time the clocks repeat: which of the two was taken
            for other in maintenance_overlaps(window=incident):
                messages.warning(request, _overlap_words(other))
            return redirect("dashboard:incident", pk=incident.pk)
    # The list again with the form open, as typed, and what is wrong beside each field (a redirect would
    # lose the title and note).
    problems = "; ".join(str(e) for errs in form.errors.values() for e in errs)
    messages.error(request, f"Could not open the incident: {problems}")
    return _list_page(request, open_form=form, status=400)


def _overlap_words(other: Incident) -> str:
    """A warning that a window just planned overlaps `other`, naming it and its times, and what follows."""
    assert other.planned_end is not None  # a maintenance window always has one
    start, end = local_time_text(other.started_at), local_time_text(other.planned_end)
    return (
        f"It overlaps the maintenance window “{other}” on {other.service.name} ({start} to {end}). While both "
        "are open, complaints attach only to the one that started later. If it is the same work, cancel one of "
        "them on its page."
    )


def _detail_page(
    request: HttpRequest, detail: IncidentDetail, *, note_form: IncidentNoteForm | None = None
) -> HttpResponse:
    incident = detail.incident
    public_id = public_incident_id_for(detected_incident_id=incident.pk)
    publishable = public_id is None and detected_publishable(incident=incident)
    return render(
        request,
        "dashboard/incident.html",
        {
            "d": detail,
            "growth": incident_growth_chart(detail=detail),
            "posts": Paginator(detail.posts, POSTS_PER_PAGE).get_page(request.GET.get("posts")),
            "can_respond": has_role(request.user, Role.RESPONDER),
            "public_id": public_id,
            "publishable": publishable,
            "state_form": IncidentStateForm(
                current=incident.state,
                maintenance=incident.kind == IncidentKind.MAINTENANCE,
                upcoming=incident.upcoming,
                manual=incident.kind == IncidentKind.MANUAL,
            ),
            "note_form": note_form or IncidentNoteForm(),
        },
    )


@role_required(Role.VIEWER)
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    detail = incident_page(pk=pk)
    if detail is None:
        raise Http404("no such incident")
    return _detail_page(request, detail)


@role_required(Role.RESPONDER)
@require_POST
def incident_act(request: HttpRequest, pk: int) -> HttpResponse:
    detail = incident_page(pk=pk)
    if detail is None:
        raise Http404("no such incident")
    incident = detail.incident
    target = reverse("dashboard:incident", kwargs={"pk": pk})
    if request.POST.get("action") == "note":
        note_form = IncidentNoteForm(request.POST)
        if note_form.is_valid():
            try:
                incident_add_note(
                    incident=incident, comment=note_form.cleaned_data["comment"], user=request.user
                )
            except ValueError as exc:
                note_form.add_error("comment", _service_error(exc))
            else:
                messages.success(request, "Note added.")
                return redirect(target)
        # The page again with the note as typed and what is wrong with it (a redirect would lose the text).
        problems = "; ".join(str(e) for errs in note_form.errors.values() for e in errs)
        messages.error(request, f"The note was not added. {problems}")
        return _detail_page(request, detail, note_form=note_form)
    form = IncidentStateForm(
        request.POST,
        current=incident.state,
        maintenance=incident.kind == IncidentKind.MAINTENANCE,
        upcoming=incident.upcoming,
        manual=incident.kind == IncidentKind.MANUAL,
    )
    if not form.is_valid():
        messages.error(request, f"The state was not changed. {form.problems()}")
        return redirect(target)
    try:
        incident_update_status(
            incident=incident,
            state=form.cleaned_data["state"],
            user=request.user,
            comment=form.cleaned_data["comment"],
        )
    except ValueError as exc:
        messages.error(request, _service_error(exc))
    else:
        done = "Reopened as" if form.reopening else "Marked"
        messages.success(request, f"{done} {form.state_label()}.")
    return redirect(target)
