"""Mentions explorer: filters, search, pagination, and bulk relabel (responder) via analysis corrections."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from servicepulse.accounts.roles import Role, has_role, role_required
from servicepulse.core.http import next_url
from servicepulse.dashboard.explorer import (
    CappedPaginator,
    ExplorerFilters,
    RelabelForm,
    apply_relabel,
    explorer_queryset,
    explorer_rows,
)
from servicepulse.dashboard.forms import is_htmx

PAGE_SIZE = 50


@role_required(Role.VIEWER)
def explorer(request: HttpRequest) -> HttpResponse:
    filters = ExplorerFilters(request.GET or None)
    qs = explorer_queryset(filters)
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "page": page,
        "rows": explorer_rows(list(page.object_list)),
        "can_relabel": has_role(request.user, Role.RESPONDER),
        "relabel_form": RelabelForm(),
        # Where relabelling returns to: this page with its filters and page number. Under htmx too, as the
        # filter form's hx-get asks for the same /mentions/?... address it pushes to the location bar.
        "back": request.get_full_path(),
    }
    template = "dashboard/_mention_results.html" if is_htmx(request) else "dashboard/mentions.html"
    return render(request, template, context)


@role_required(Role.RESPONDER)
@require_POST
def relabel(request: HttpRequest) -> HttpResponse:
    form = RelabelForm(request.POST)
    target = _back_to_explorer(request)
    if not form.is_valid():
        messages.error(
            request,
            "Choose posts and a label to set: "
            + "; ".join(
                f"{form[k].label if k in form.fields else 'form'}: {' '.join(str(e) for e in v)}"
                for k, v in form.errors.items()
            ),
        )
        return redirect(target)
    try:
        changed = apply_relabel(form=form, user=request.user)
    except ValueError as exc:  # the analysis app's CorrectionError
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Relabelled {changed} post{'s' if changed != 1 else ''}. "
            "The models learn from it at the next training.",
        )
    return redirect(target)


def _back_to_explorer(request: HttpRequest) -> str:
    """The explorer page the relabel came from (same site only), else the explorer."""
    explorer = reverse("dashboard:mentions")
    target = next_url(request, explorer)
    if not target.startswith("/"):
        # A bare query string, as pages rendered before `next` was a path sent it (and next_url only lets
        # relative ones through): read it as the explorer's filters.
        target = f"{explorer}?{target.lstrip('?')}"
    return target
