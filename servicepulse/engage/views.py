"""Inbox views: thin, over engage's selectors and services. Viewers read; responders act."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from servicepulse.accounts.roles import Role, has_role, role_required
from servicepulse.catalog.selectors import service_list
from servicepulse.core.http import next_url
from servicepulse.engage.forms import AssignForm, LoopForm, NoteForm, ReplyForm, SavedReplyForm, StateForm
from servicepulse.engage.models import CaseState, ReplyOutcome, SavedReply
from servicepulse.engage.selectors import (
    case_get,
    inbox_counts,
    inbox_items,
    last_answer_id,
    loop_log,
    reply_limit,
    reply_too_long,
    reply_unavailable,
    response_times,
    saved_reply_list,
    team_choices,
    thread_mentions,
    untouched_between,
)
from servicepulse.engage.services import (
    LOOP_TEMPLATES,
    EngageError,
    LoopStatusChanged,
    ReplyAlreadySent,
    case_assign,
    case_link_public_incident,
    case_note_add,
    case_open,
    case_record_reply,
    case_reply,
    case_transition,
    cases_bulk,
    loop_pending,
    loop_preview,
    loop_send,
    optout_add,
    saved_reply_render,
    saved_reply_save,
)
from servicepulse.mentions.models import Mention
from servicepulse.status.models import PublicIncident
from servicepulse.status.selectors import public_incident_list

PAGE_SIZE = 50


def _can_act(request: HttpRequest) -> bool:
    return has_role(request.user, Role.RESPONDER)


@role_required(Role.VIEWER)
def inbox(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", CaseState.NEW)
    state = "" if state == "all" else state
    assignee_id = request.user.pk if request.GET.get("mine") else None
    team = request.GET.get("team") or None
    service_id = request.GET.get("service") or None
    items = inbox_items(state=state or None, assignee_id=assignee_id, team=team, service_id=service_id)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    times = response_times(since=now - timedelta(days=28), until=now)
    return render(
        request,
        "engage/inbox.html",
        {
            "untouched": untouched_between(since=now - timedelta(days=28), until=now),
            "page": page,
            "state": state or "all",
            "states": CaseState.choices,
            # The tabs count under the list's filters, so a tab's number is what clicking it shows.
            "counts": inbox_counts(assignee_id=assignee_id, team=team, service_id=service_id),
            "filtered": bool(assignee_id or team or service_id),
            "services": service_list(),
            "teams": team_choices(),
            "times": list(times.values()),
            "loop_pending": loop_pending(),
            "can_act": _can_act(request),
            "assign_form": AssignForm(),
            "now": now,
        },
    )


@role_required(Role.RESPONDER)
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("mention") if i.isdecimal()]
    action = request.POST.get("bulk_action", "")
    form = AssignForm(request.POST)
    back = HttpResponseRedirect(next_url(request, reverse("engage:inbox")))
    if not ids:
        messages.error(request, "Select at least one post.")
        return back
    if action == "assign" and not form.is_valid():
        _form_errors(request, form)
        return back
    assignee = form.cleaned_data["assignee"] if action == "assign" else None
    team = form.cleaned_data["team"] if action == "assign" else ""
    try:
        result = cases_bulk(
            mention_ids=ids,
            action=action,
            actor=request.user,
            assignee=assignee,
            team=team,
            take_over=request.POST.get("take_over") == "1",
        )
    except EngageError as exc:
        messages.error(request, str(exc))
        return back
    if result.done:
        messages.success(request, f"{result.done} updated.")
    if result.held:
        held = sum(result.held.values())
        who = ", ".join(f"{name} ({n})" if len(result.held) > 1 else name for name, n in result.held.items())
        messages.warning(
            request,
            f"{held} {'case was' if held == 1 else 'cases were'} left with {who}, who already had "
            f"{'it' if held == 1 else 'them'}. To take {'it' if held == 1 else 'them'} over, tick "
            "“Take over cases assigned to someone else” and assign again, or reassign each from its page.",
        )
    for error in result.errors[:5]:
        messages.error(request, error)
    if len(result.errors) > 5:
        messages.error(request, f"… and {len(result.errors) - 5} more not updated.")
    return back


def _form_errors(request: HttpRequest, form: Form) -> None:
    """Each error of an action's form as a message (the action's page redirects back to itself)."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


@role_required(Role.VIEWER)
def response_times_page(request: HttpRequest) -> HttpResponse:
    asked = request.GET.get("days", "")
    days = max(1, min(int(asked), 365)) if asked.isdecimal() else 28
    now = timezone.now()
    times = response_times(since=now - timedelta(days=days), until=now)
    untouched = untouched_between(since=now - timedelta(days=days), until=now)
    return render(
        request, "engage/times.html", {"times": list(times.values()), "days": days, "untouched": untouched}
    )


@role_required(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def item(request: HttpRequest, mention_id: int) -> HttpResponse:
    mention = get_object_or_404(Mention.objects.select_related("source"), pk=mention_id)
    if request.method == "POST":
        if not _can_act(request):
            return HttpResponseForbidden("this action needs the Responder role")
        return _act(request, mention)
    case = case_get(mention_id=mention.pk)
    saved = list(saved_reply_list())
    chosen = next((s for s in saved if str(s.pk) == request.GET.get("saved")), None)
    # A reply that was not sent comes back into the form, so nobody has to type it again.
    draft = request.session.pop(_draft_key(mention), "")
    reply_initial = draft or (
        saved_reply_render(body=chosen.body, mention=mention, case=case) if chosen else ""
    )
    return render(
        request,
        "engage/item.html",
        {
            "mention": mention,
            "case": case,
            "thread": thread_mentions(mention=mention),
            "activities": case.activities.select_related("actor") if case else [],
            "replies": case.replies.all() if case else [],
            "assign_form": AssignForm(
                initial={"assignee": case.assignee_id if case else None, "team": case.team if case else ""}
            ),
            "state_form": StateForm(
                current=case.state if case else CaseState.NEW,
                initial={"state": case.state if case else CaseState.NEW},
            ),
            "note_form": NoteForm(auto_id="id_note_%s"),  # the reply form's field is also "text"
            "cannot_reply": reply_unavailable(source=mention.source),
            "reply_form": ReplyForm(initial={"text": reply_initial, "seen": last_answer_id(case=case)}),
            "reply_limit": reply_limit(source=mention.source),
            "reply_too_long": reply_too_long(mention=mention, text=reply_initial) if reply_initial else "",
            "saved": saved,
            "public_incidents": public_incident_list(unresolved_only=True, public=False),
            "can_act": _can_act(request),
        },
    )


def _draft_key(mention: Mention) -> str:
    return f"engage:reply-draft:{mention.pk}"


_ACTION_FORMS: dict[str, type[Form]] = {
    "assign": AssignForm,
    "state": StateForm,
    "note": NoteForm,
    "reply": ReplyForm,
    "recorded": ReplyForm,
}


def _act(request: HttpRequest, mention: Mention) -> HttpResponse:
    action = request.POST.get("action", "")
    back = HttpResponseRedirect(reverse("engage:item", args=[mention.pk]))
    form: Form | None = None
    if action == "state":  # "replied" is a valid choice only while it is already the case's state
        existing = case_get(mention_id=mention.pk)
        form = StateForm(request.POST, current=existing.state if existing else CaseState.NEW)
    elif action in _ACTION_FORMS:
        form = _ACTION_FORMS[action](request.POST)
    if form is not None and not form.is_valid():
        _form_errors(request, form)
        return back
    data = form.cleaned_data if form is not None else {}
    incident: PublicIncident | None = None
    if action == "link" and request.POST.get("public_incident"):
        asked = request.POST["public_incident"]
        incident = PublicIncident.objects.filter(pk=int(asked)).first() if asked.isdecimal() else None
        if incident is None:
            messages.error(request, "That public incident does not exist.")
            return back
    elif action not in (*_ACTION_FORMS, "optout", "link"):
        messages.error(request, "Unknown action.")
        return back
    case = case_open(mention=mention)
    try:
        if action == "assign":
            case_assign(case=case, actor=request.user, assignee=data["assignee"], team=data["team"])
            messages.success(request, "Assigned.")
        elif action == "state":
            case_transition(case=case, to_state=data["state"], actor=request.user)
            messages.success(request, f"Case is now {case.get_state_display().lower()}.")
        elif action == "note":
            case_note_add(case=case, actor=request.user, text=data["text"])
            messages.success(request, "Note added.")
        elif action == "reply":
            try:
                reply = case_reply(
                    case=case, text=data["text"], actor=request.user, seen_reply_id=data["seen"]
                )
            except ReplyAlreadySent:
                raise
            except EngageError:  # not sent (a colleague's reply came first): keep the text for the form
                request.session[_draft_key(mention)] = data["text"]
                raise
            if reply.outcome == ReplyOutcome.SENT:
                messages.success(request, f"Reply sent on {mention.source.get_kind_display()}.")
            else:
                request.session[_draft_key(mention)] = data["text"]
                messages.error(
                    request,
                    f"Reply not sent — {reply.error.rstrip('.')}. Your text is kept in the form below.",
                )
        elif action == "recorded":
            case_record_reply(case=case, text=data["text"], actor=request.user)
            messages.success(request, "Recorded: the person was answered elsewhere.")
        elif action == "optout":
            optout_add(mention=mention, reason=request.POST.get("reason", ""), actor=request.user)
            messages.success(request, "This person will not be contacted on this channel.")
        else:  # link
            case_link_public_incident(case=case, incident=incident)
            messages.success(request, "Linked to the public incident." if incident else "Unlinked.")
    except EngageError as exc:
        messages.error(request, str(exc))
    return back


@role_required(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def saved_replies(request: HttpRequest) -> HttpResponse:
    form = SavedReplyForm(request.POST or None)
    if request.method == "POST":
        if not _can_act(request):
            return HttpResponseForbidden("this action needs the Responder role")
        if form.is_valid():
            try:
                saved_reply_save(
                    title=form.cleaned_data["title"], body=form.cleaned_data["body"], actor=request.user
                )
            except EngageError as exc:
                form.add_error("body", str(exc))
            else:
                messages.success(request, "Saved reply added.")
                return HttpResponseRedirect(reverse("engage:saved"))
    return render(
        request,
        "engage/saved.html",
        {"saved": saved_reply_list(), "form": form, "can_act": _can_act(request)},
        status=400 if form.errors else 200,
    )


@role_required(Role.RESPONDER)
@require_POST
def saved_reply_delete(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(SavedReply, pk=pk).delete()
    messages.success(request, "Saved reply deleted.")
    return HttpResponseRedirect(reverse("engage:saved"))


@role_required(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def loop(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The closed loop: preview the reply each attached person would get for the current status, then send."""
    incident = get_object_or_404(PublicIncident.objects.prefetch_related("services"), pk=incident_id)
    form = LoopForm(request.POST or None)
    template = None
    if request.method == "POST":
        if not _can_act(request):
            return HttpResponseForbidden("this action needs the Responder role")
        if form.is_valid():
            template = form.cleaned_data["template"]
            if request.POST.get("confirm") == "send":
                # The preview's tick boxes: only the people kept ticked get a reply (a form without them,
                # e.g. a script's, means everyone).
                only = set(request.POST.getlist("person")) if request.POST.get("choosing") else None
                try:
                    result = loop_send(
                        incident=incident,
                        template=template,
                        actor=request.user,
                        only=only,
                        written_for=form.cleaned_data["status"],
                    )
                except LoopStatusChanged as exc:
                    messages.error(request, str(exc))
                    # The default message of the old status becomes the new status's; a message the
                    # responder wrote stays as typed, for them to check.
                    if template.strip() == LOOP_TEMPLATES.get(exc.written_for, "").strip():
                        template = LOOP_TEMPLATES[incident.status]
                    form = LoopForm({"template": template, "status": incident.status})
                    form.is_valid()
                except EngageError as exc:
                    messages.error(request, str(exc))
                else:
                    messages.success(
                        request,
                        f"{result.queued} replies queued; "
                        f"{result.listed} people listed who will not get one; "
                        f"{result.already} already answered for this status.",
                    )
                    return HttpResponseRedirect(reverse("engage:loop", args=[incident.pk]))
    try:
        preview = loop_preview(incident=incident, template=template)
    except EngageError as exc:
        messages.error(request, str(exc))
        preview = loop_preview(incident=incident)
    if not form.is_bound:
        form = LoopForm(initial={"template": preview.template, "status": preview.incident_status})
    return render(
        request,
        "engage/loop.html",
        {
            "incident": incident,
            "preview": preview,
            "form": form,
            "log": loop_log(incident=incident),
            "unticked": set()
            if request.method != "POST" or not request.POST.get("choosing")
            else {r.person_key for r in preview.to_send} - set(request.POST.getlist("person")),
            "can_act": _can_act(request),
        },
    )
