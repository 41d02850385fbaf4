"""Catalogue editor: services, aliases, examples (admin)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from servicepulse.accounts.roles import Role, role_required
from servicepulse.catalog.document import CatalogError
from servicepulse.catalog.models import Service
from servicepulse.catalog.selectors import service_history, service_list
from servicepulse.catalog.services import ServiceInUse, service_delete, service_save
from servicepulse.dashboard.forms import ServiceForm


@role_required(Role.ADMIN)
def catalog(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/catalog.html", {"services": service_list()})


def _save(request: HttpRequest, form: ServiceForm, template_context: dict[str, object]) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            service = service_save(
                service_id=data["id"],
                name=data["name"],
                aliases=data["aliases"],
                description=data["description"],
                examples=data["examples"],
                team=data["team"],
                public=data["public"],
                sensitivity=data["sensitivity"],
                target_score=data["target_score"],
            )
        except CatalogError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {service.name}. Tagging uses the change from the next post on.")
            return redirect("dashboard:catalog")
    return render(request, "dashboard/catalog_form.html", {"form": form, **template_context})


@role_required(Role.ADMIN)
def catalog_add(request: HttpRequest) -> HttpResponse:
    form = ServiceForm(request.POST or None)
    return _save(request, form, {"editing": None})


@role_required(Role.ADMIN)
def catalog_edit(request: HttpRequest, service_id: str) -> HttpResponse:
    service = get_object_or_404(Service, id=service_id)
    form = ServiceForm(request.POST or None, editing=service)
    return _save(request, form, {"editing": service})


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def catalog_delete(request: HttpRequest, service_id: str) -> HttpResponse:
    """GET: what removing the service would take (a service with history is kept, and the page says why and
    what to do instead); POST from that page: remove it."""
    service = get_object_or_404(Service, id=service_id)
    if request.method == "POST":
        try:
            service_delete(service_id=service.id)
        except ServiceInUse as exc:
            # Tagged or used since the page was shown: show it again, with what keeps it now.
            return render(
                request,
                "dashboard/catalog_remove.html",
                {"service": service, "history": exc.history},
                status=409,
            )
        messages.success(request, f"Removed {service.name} from the catalogue.")
        return redirect("dashboard:catalog")
    history = service_history(service_id=service.id)
    return render(request, "dashboard/catalog_remove.html", {"service": service, "history": history})
