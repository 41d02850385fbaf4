"""Sources: health, connection details and quarantined input for everyone signed in; add, change, pause/resume,
sync, remove and discard quarantined input (admin) through the same services as the `servicepulse sources`
command."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from servicepulse.accounts.roles import Role, has_role, role_required
from servicepulse.dashboard.forms import SourceAddForm, SourceOptionsForm, is_htmx, option_errors_to_fields
from servicepulse.mentions.selectors import quarantine_list
from servicepulse.mentions.services import quarantine_discard
from servicepulse.sources.models import Source
from servicepulse.sources.registry import ConnectorError, connector_classes
from servicepulse.sources.selectors import (
    source_connection,
    source_health,
    source_list_with_health,
    source_public_options,
)
from servicepulse.sources.services import (
    NOT_PULLED,
    SourceConfigError,
    source_create,
    source_removal_summary,
    source_remove,
    source_update,
)


@role_required(Role.VIEWER)
def sources(request: HttpRequest) -> HttpResponse:
    rows = source_list_with_health()
    return render(
        request,
        "dashboard/sources.html",
        {
            "rows": rows,
            "has_demo": any(row.demo for row in rows),
            "can_change": has_role(request.user, Role.ADMIN),
        },
    )


@role_required(Role.ADMIN)
def source_add(request: HttpRequest) -> HttpResponse:
    kinds = connector_classes()
    kind = request.POST.get("kind") or request.GET.get("kind") or next(iter(kinds), "")
    form = SourceAddForm(request.POST or None, kinds=kinds, kind=kind, initial={"kind": kind})
    if request.method == "POST" and "refresh" not in request.POST and form.is_valid():
        try:
            source = source_create(
                kind=form.cleaned_data["kind"], name=form.cleaned_data["name"], options=form.options()
            )
        except (SourceConfigError, ConnectorError) as exc:
            option_errors_to_fields(form, exc)
        else:
            messages.success(request, f"Added source {source.name}.")
            return redirect("dashboard:source", pk=source.pk)
    partial = is_htmx(request) and request.method == "GET"
    template = "dashboard/_source_options.html" if partial else "dashboard/source_add.html"
    return render(request, template, {"form": form, "kind": kind})


@role_required(Role.ADMIN)
@require_POST
def source_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    try:
        source_update(source=source, enabled=not source.enabled)
    except SourceConfigError as exc:
        messages.error(request, f"{exc}.")
        return redirect("dashboard:sources")
    messages.success(request, f"{'Resumed' if source.enabled else 'Paused'} {source.name}.")
    return redirect("dashboard:sources")


@role_required(Role.ADMIN)
@require_POST
def source_sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    from servicepulse.sources.tasks import sync_source

    source = get_object_or_404(Source, pk=pk)
    if not source.enabled:
        if source.is_demo:
            messages.error(
                request, f"{source.name} holds the demo's generated posts; there is nothing to sync."
            )
        else:
            messages.error(request, f"{source.name} is paused; resume it before asking for a sync.")
        return redirect("dashboard:sources")
    cls = connector_classes().get(source.kind)
    if cls is None or not cls.can_pull:
        messages.error(request, f"{source.name} {NOT_PULLED}.")
        return redirect("dashboard:sources")
    transaction.on_commit(lambda: sync_source.enqueue(source.pk))
    messages.success(request, f"Asked for a sync of {source.name}; its health shows once the worker ran it.")
    return redirect("dashboard:sources")


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def source_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what removing the source deletes with it, and that pausing keeps them; POST from that page:
    remove."""
    source = get_object_or_404(Source, pk=pk)
    if request.method == "POST":
        removed = source_remove(name=source.name)
        messages.success(
            request, f"Removed source {source.name} and its {removed} post{'' if removed == 1 else 's'}."
        )
        return redirect("dashboard:sources")
    summary = source_removal_summary(source=source)
    return render(request, "dashboard/sources_remove.html", {"source": source, "summary": summary})


QUARANTINE_SHOWN = 50


@role_required(Role.VIEWER)
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One source: its health, where the platform sends to it (webhook address, widget snippet), its options
    (secrets only as set or not) and what it could not store (quarantine), with the reasons."""
    source = get_object_or_404(Source, pk=pk)
    quarantined = quarantine_list(source_id=source.pk)
    cls = connector_classes().get(source.kind)
    description = getattr(cls, "description", "")
    return render(
        request,
        "dashboard/source.html",
        {
            "source": source,
            "health": source_health(name=source.name),
            "description": description,
            # "Reddit: new posts..." already names the kind: "Reddit — Reddit: ..." said it twice.
            "description_names_kind": description.startswith(source.get_kind_display()),
            "connection": source_connection(source=source),
            "options": sorted(source_public_options(source=source).items()) if not source.is_demo else [],
            "quarantined": quarantined[:QUARANTINE_SHOWN],
            "quarantined_total": quarantined.count(),
            "can_change": has_role(request.user, Role.ADMIN),
            "has_options": bool(getattr(cls, "options", ())) and not source.is_demo,
        },
    )


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a source's options (a new token, another feed address); secrets left empty keep their value."""
    source = get_object_or_404(Source, pk=pk)
    cls = connector_classes().get(source.kind)
    if source.is_demo or cls is None:
        messages.error(request, f"{source.name} has no options to change.")
        return redirect("dashboard:source", pk=source.pk)
    form = SourceOptionsForm(request.POST or None, source=source, connector=cls)
    if request.method == "POST" and form.is_valid():
        try:
            source_update(source=source, options=form.options(), unset=form.forgotten())
        except (SourceConfigError, ConnectorError) as exc:
            option_errors_to_fields(form, exc)
        else:
            messages.success(request, f"Saved the options of {source.name}.")
            return redirect("dashboard:source", pk=source.pk)
    return render(request, "dashboard/source_edit.html", {"source": source, "form": form})


@role_required(Role.ADMIN)
@require_POST
def source_quarantine_discard(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete quarantined input once read: one row (`row`) or all of the source's."""
    source = get_object_or_404(Source, pk=pk)
    row = request.POST.get("row")
    ids = None if row is None else [int(row)] if row.isdecimal() else []
    discarded = quarantine_discard(source=source, ids=ids)
    messages.success(
        request, f"Discarded {discarded} quarantined row{'' if discarded == 1 else 's'} of {source.name}."
    )
    return redirect(f"{reverse('dashboard:source', args=[source.pk])}#quarantine")
