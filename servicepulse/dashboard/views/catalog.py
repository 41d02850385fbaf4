"""Catalogue editor: services, aliases, examples (admin)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from servicepulse.accounts.roles import Role, role_required
from servicepulse.catalog.models import Service
from servicepulse.catalog.selectors import service_list
from servicepulse.catalog.services import CatalogError, service_delete, service_save
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
@require_POST
def catalog_delete(request: HttpRequest, service_id: str) -> HttpResponse:
    service = get_object_or_404(Service, id=service_id)
    try:
        service_delete(service_id=service.id)
    except ProtectedError:
        messages.error(
            request, f"{service.name} has incidents or history that keep it; mark it not public instead."
        )
    else:
        messages.success(request, f"Removed {service.name} from the catalogue.")
    return redirect("dashboard:catalog")
