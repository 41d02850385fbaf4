"""Mentions explorer: filters, search, pagination, and bulk relabel (responder) via analysis corrections."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from servicepulse.accounts.roles import Role, has_role, role_required
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
    }
    template = "dashboard/_mention_results.html" if is_htmx(request) else "dashboard/mentions.html"
    return render(request, template, context)


@role_required(Role.RESPONDER)
@require_POST
def relabel(request: HttpRequest) -> HttpResponse:
    form = RelabelForm(request.POST)
    back = request.POST.get("next", "")
    target = "/mentions/" + (f"?{back}" if back else "")
    if not form.is_valid():
        messages.error(
            request,
            "Choose posts and a label to set: "
            + "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()),
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
