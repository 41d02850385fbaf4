"""Mentions explorer: filters, search, pagination, bulk relabel (responder) via analysis corrections, and
putting a corrected label back to servicepulse's reading (responder)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from servicepulse.accounts.roles import Role, has_role, role_required
from servicepulse.analysis.models import CorrectionField
from servicepulse.core.http import csv_download, next_url
from servicepulse.dashboard.explorer import (
    MAX_MENTION_ID,
    CappedPaginator,
    ExplorerFilters,
    RelabelForm,
    apply_relabel,
    apply_revert,
    explorer_export_rows,
    explorer_queryset,
    explorer_rows,
)
from servicepulse.dashboard.forms import is_htmx

PAGE_SIZE = 50
# A relabel that could not be applied, kept for the explorer page it returns to: the posts stay ticked and the
# label, value and services chosen stay filled in, beside what was wrong, instead of being lost.
RETRY_KEY = "dashboard:relabel-retry"
RETRY_FIELDS = ("mention_ids", "field", *RelabelForm.VALUE_FIELDS, "services", "value")


@role_required(Role.VIEWER)
def explorer(request: HttpRequest) -> HttpResponse:
    filters = ExplorerFilters(request.GET or None)
    qs = explorer_queryset(filters)
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = request.session.pop(RETRY_KEY, None) if not is_htmx(request) else None
    retry = QueryDict(kept) if isinstance(kept, str) else None
    relabel_form = RelabelForm(retry)
    if retry is not None:
        relabel_form.is_valid()  # shows each problem beside its field
    context = {
        "filters": filters,
        "page": page,
        "rows": explorer_rows(list(page.object_list)),
        "can_relabel": has_role(request.user, Role.RESPONDER),
        "relabel_form": relabel_form,
        "selected": _ticked(retry),
        # Where relabelling returns to: this page with its filters and page number. Under htmx too, as the
        # filter form's hx-get asks for the same /mentions/?... address it pushes to the location bar.
        "back": request.get_full_path(),
        # The download takes the same filters (not the page number): it is the posts the filters match.
        "export_query": _filters_query(request),
    }
    template = "dashboard/_mention_results.html" if is_htmx(request) else "dashboard/mentions.html"
    return render(request, template, context)


@role_required(Role.VIEWER)
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The posts the explorer's filters match, as CSV."""
    filters = ExplorerFilters(request.GET or None)
    service = filters.values().get("service", "")
    name = f"servicepulse-posts{f'-{service}' if service else ''}-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_download(explorer_export_rows(filters), filename=name)


def _filters_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@role_required(Role.RESPONDER)
@require_POST
def relabel(request: HttpRequest) -> HttpResponse:
    form = RelabelForm(request.POST)
    target = _back_to_explorer(request)
    if not form.is_valid():
        _keep_for_retry(request, target)
        messages.error(
            request,
            "Nothing was relabelled. "
            + "; ".join(
                f"{form[k].label if k in form.fields else 'form'}: {' '.join(str(e) for e in v)}"
                for k, v in form.errors.items()
            ),
        )
        return redirect(target)
    try:
        changed = apply_relabel(form=form, user=request.user)
    except ValueError as exc:  # the analysis app's CorrectionError
        _keep_for_retry(request, target)
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Relabelled {changed} post{'s' if changed != 1 else ''}. "
            "The models learn from it at the next training.",
        )
        gone = len(set(form.cleaned_data["mention_ids"])) - changed
        if gone:
            # Deleted by retention or erased (erase-author) since the page was drawn: say so, rather than
            # a bare "Relabelled 0 posts" that reads as if the relabel had silently failed.
            messages.warning(
                request,
                f"{gone} of the ticked posts no longer exist{'s' if gone == 1 else ''} (deleted by retention "
                f"or erased since the page was shown) and {'was' if gone == 1 else 'were'} not relabelled.",
            )
    return redirect(target)


@role_required(Role.RESPONDER)
@require_POST
def relabel_revert(request: HttpRequest, mention_id: int) -> HttpResponse:
    """Put one corrected label of one post back to servicepulse's reading (the button beside the correction;
    it sits inside the relabel form, so the label comes as `revert` and the rest of that form is ignored)."""
    if not 0 < mention_id <= MAX_MENTION_ID:
        raise Http404("No such post.")
    target = _back_to_explorer(request)
    field = request.POST.get("revert", "")
    if field not in CorrectionField.values:
        messages.error(
            request,
            "Nothing was put back: say which label (services, complaint, sentiment or spam) to put back.",
        )
        return redirect(target)
    name = CorrectionField(field).label.lower()
    reverted = apply_revert(mention_id=mention_id, field=field, user=request.user)
    if reverted is None:
        messages.warning(
            request,
            "Nothing was put back: the post no longer exists (deleted by retention or erased since the page "
            "was shown).",
        )
    elif reverted == 0:
        messages.info(
            request,
            f"Nothing to put back: the post's {name} is already servicepulse's own reading (someone may have "
            "put it back or the page was out of date).",
        )
    else:
        messages.success(
            request,
            f"Put the post's {name} back to servicepulse's reading. The correction stays on record, and the "
            "models no longer learn from it at the next training.",
        )
    return redirect(target)


def _ticked(retry: QueryDict | None) -> set[int]:
    """The posts ticked in a relabel kept for retry (none without one)."""
    if retry is None:
        return set()
    # ASCII digits only: "²".isdigit() is true, but int("²") fails (a posted id like that was a 500).
    return {int(i) for i in retry.getlist("mention_ids") if i.isascii() and i.isdigit()}


def _keep_for_retry(request: HttpRequest, target: str) -> None:
    if not target.startswith(reverse("dashboard:mentions")):
        return  # only the explorer shows it again
    kept = QueryDict(mutable=True)
    for name in RETRY_FIELDS:
        kept.setlist(name, request.POST.getlist(name))
    request.session[RETRY_KEY] = kept.urlencode()


def _back_to_explorer(request: HttpRequest) -> str:
    """The explorer page the relabel came from (same site only), else the explorer."""
    explorer = reverse("dashboard:mentions")
    target = next_url(request, explorer)
    if not target.startswith("/"):
        # A bare query string, as pages rendered before `next` was a path sent it (and next_url only lets
        # relative ones through): read it as the explorer's filters.
        target = f"{explorer}?{target.lstrip('?')}"
    return target
