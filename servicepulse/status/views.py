"""Status page views: public (no sign-in) pages, feed, JSON and badges; responder pages to post and update."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicepulse.accounts.roles import Role, has_role, role_required
from servicepulse.core.forms import tell_time_notes
from servicepulse.core.http import next_url
from servicepulse.core.ratelimit import client_address, rate_limit_hit
from servicepulse.incidents.selectors import detected_confirmed
from servicepulse.status.badges import badge_svg
from servicepulse.status.forms import (
    IncidentForm,
    MaintenanceForm,
    PublishDetectedForm,
    SubscribeForm,
    UpdateForm,
)
from servicepulse.status.links import StatusError
from servicepulse.status.models import ComponentState, IncidentStatus, Maintenance, PublicIncident
from servicepulse.status.selectors import (
    NO_DATA,
    component_history,
    component_list,
    component_states,
    days_with_data,
    maintenance_list,
    page_indicator,
    public_incident_list,
    public_maintenance,
    published_detected_ids,
    subscribers_for,
    subscription_pending,
    subscription_unsubscribe_pending,
    summary,
    uptime_percent,
)
from servicepulse.status.services import (
    UpdateAlreadyPosted,
    maintenance_cancel,
    maintenance_schedule,
    public_incident_draft,
    public_incident_from_detected,
    public_incident_open,
    public_incident_update,
    subscription_confirm,
    subscription_request,
    subscription_unsubscribe,
)

PUBLIC_CACHE = "public, max-age=60"
SUBSCRIBE_LIMIT = 5  # confirmation e-mails per client address, and per recipient, per 10 minutes
RECENT_DAYS = 14
# The key under the components: what each state means to someone using the service, in the colour of its bars.
STATE_MEANINGS = {
    ComponentState.OPERATIONAL: "working normally.",
    ComponentState.DEGRADED: "working, but slower or less reliable than usual.",
    ComponentState.PARTIAL_OUTAGE: "not working for some people, or part of it is not working.",
    ComponentState.MAJOR_OUTAGE: "not working for most people.",
    ComponentState.MAINTENANCE: "planned work is under way; it may be unavailable until the work ends.",
}


def _cache_html(request: HttpRequest, response: HttpResponse) -> None:
    """Signed-out pages may be cached by anyone for a minute; a signed-in page carries the person's name
    and tokens, so it is never stored by shared caches."""
    response["Cache-Control"] = "private, no-store" if request.user.is_authenticated else PUBLIC_CACHE


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    states = component_states(at=now)
    history = component_history(at=now)
    indicator, description = page_indicator(states)
    components = [
        {
            "status": s,
            "days": history.get(s.service.id, []),
            "uptime": uptime_percent(history.get(s.service.id, [])),
            "uptime_days": days_with_data(history.get(s.service.id, [])),
        }
        for s in states
    ]
    recent = public_incident_list(since=now - timedelta(days=RECENT_DAYS))
    context = {
        "indicator": indicator,
        "description": description,
        "components": components,
        "active": [i for i in recent if not i.is_resolved],
        # Newest first: by when each ended (an incident report published today may be of last week's outage).
        "resolved": sorted(
            (i for i in recent if i.is_resolved), key=lambda i: i.resolved_at or i.started_at, reverse=True
        ),
        "maintenances": [(m, m.state_at(now)) for m in maintenance_list(at=now)],
        "form": SubscribeForm(),
        "now": now,
        "state_key": [(state.value, state.label, meaning) for state, meaning in STATE_MEANINGS.items()]
        + (
            [(NO_DATA, "No data", "before servicepulse knew the component; left out of its figure.")]
            if any(d.state == NO_DATA for days in history.values() for d in days)
            else []
        ),
    }
    response = render(request, "status/page.html", context)
    _cache_html(request, response)
    return response


@require_GET
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(public_incident_list(), pk=pk)
    response = render(request, "status/incident.html", {"incident": incident})
    _cache_html(request, response)
    return response


@require_GET
def maintenance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    window = get_object_or_404(public_maintenance(), pk=pk)
    response = render(
        request, "status/maintenance.html", {"maintenance": window, "state": window.state_at(timezone.now())}
    )
    _cache_html(request, response)
    return response


@require_GET
def summary_json(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(summary(), json_dumps_params={"indent": 1})
    response["Cache-Control"] = PUBLIC_CACHE
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def badge(request: HttpRequest, service_id: str) -> HttpResponse:
    states = {s.service.id: s for s in component_states()}
    if service_id not in states:
        raise Http404("no public component with this id")
    status = states[service_id]
    label = request.GET.get("label", status.service.name)[:40]
    response = HttpResponse(
        badge_svg(label=label, state=status.state), content_type="image/svg+xml; charset=utf-8"
    )
    response["Cache-Control"] = PUBLIC_CACHE
    response["Access-Control-Allow-Origin"] = "*"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


# The form is anonymous and only ever sends a confirmation link to the address typed in (which anyone could
# request directly), so a forged cross-site POST gains nothing; exempting it keeps the cached page's form
# working for every visitor. Abuse is bounded by the honeypot and the per-address rate limit.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    form = SubscribeForm(request.POST or None, initial={"components": request.GET.getlist("component")})
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["website"]:
            return render(request, "status/subscribe_sent.html", {})  # honeypot: pretend all is well
        retry = rate_limit_hit(
            scope="status-subscribe", key=client_address(request), limit=SUBSCRIBE_LIMIT, per=600
        ) or rate_limit_hit(  # and per recipient, so many senders together cannot flood one mailbox
            scope="status-subscribe-to",
            key=form.cleaned_data["email"].strip().lower(),
            limit=SUBSCRIBE_LIMIT,
            per=600,
        )
        if retry is not None:
            response = render(request, "status/subscribe.html", {"form": form, "limited": True}, status=429)
            response["Retry-After"] = str(retry)
            return response
        try:
            subscription_request(
                email=form.cleaned_data["email"],
                service_ids=form.cleaned_data["components"],
                all_components=form.cleaned_data["all_components"],
            )
        except StatusError as exc:
            form.add_error(None, str(exc))
        else:
            return render(request, "status/subscribe_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "status/subscribe.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def subscribe_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link would confirm and a button; the POST confirms. Mail scanners that open every
    link therefore cannot confirm a subscription someone else asked for in a person's name."""
    if request.method == "GET":
        try:
            pending = subscription_pending(token=token)
        except StatusError as exc:
            return render(
                request,
                "status/message.html",
                {"title": "Subscription not confirmed", "text": str(exc)},
                status=400,
            )
        return render(request, "status/subscribe_confirm.html", {"token": token, **pending})
    try:
        subs = subscription_confirm(token=token)
    except StatusError as exc:
        return render(
            request,
            "status/message.html",
            {"title": "Subscription not confirmed", "text": str(exc)},
            status=400,
        )
    if not subs:  # its components left the status page since the link was sent
        text = "the components this link names are no longer on the status page"
        return render(request, "status/message.html", {"title": "Subscription not confirmed", "text": text})
    names = [s.service.name if s.service else "every component" for s in subs]
    text = (
        f"We will e-mail {subs[0].email} about: {', '.join(names)}. To stop, follow the unsubscribe link"
        " at the end of any of these e-mails; no sign-in is needed."
    )
    return render(request, "status/message.html", {"title": "Subscription confirmed", "text": text})


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        # A button (not unsubscribing on GET) keeps link-scanning mail filters from unsubscribing people.
        try:
            pending = subscription_unsubscribe_pending(token=token)
        except StatusError as exc:
            return render(
                request, "status/message.html", {"title": "Not unsubscribed", "text": str(exc)}, status=400
            )
        return render(request, "status/unsubscribe.html", {"token": token, **pending})
    try:
        subs = subscription_unsubscribe(token=token)
    except StatusError as exc:
        return render(
            request, "status/message.html", {"title": "Not unsubscribed", "text": str(exc)}, status=400
        )
    names = [s.service.name if s.service else "every component" for s in subs]
    return render(
        request,
        "status/message.html",
        {"title": "Unsubscribed", "text": f"You will no longer receive e-mail about: {', '.join(names)}."},
    )


# --- responder pages ----------------------------------------------------------------------------------


def _mailed(incident: PublicIncident) -> str:
    """What posting told subscribers, for the confirmation message: how many addresses are e-mailed."""
    addresses = {s.email for s in subscribers_for(service_ids=[c.id for c in incident.services.all()])}
    if not addresses:
        return "Nobody subscribes to its components, so no e-mail is sent."
    n = len(addresses)
    return f"It is being e-mailed to {n} subscriber{'' if n == 1 else 's'}."


def _can_act(request: HttpRequest) -> bool:
    """Responders and admins post and change what the status page shows; viewers only read these pages."""
    return has_role(request.user, Role.RESPONDER)


def _manage_page(
    request: HttpRequest,
    *,
    incident_form: IncidentForm | None = None,
    maintenance_form: MaintenanceForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The manage page; a form that failed is shown again as typed, with its errors beside its fields."""
    now = timezone.now()
    return render(
        request,
        "status/manage.html",
        {
            "can_act": _can_act(request),
            "open_incidents": public_incident_list(unresolved_only=True, public=False),
            "recent": public_incident_list(public=False).filter(status=IncidentStatus.RESOLVED)[:20],
            "maintenances": [(m, m.state_at(now)) for m in maintenance_list(at=now, public=False)],
            "incident_form": incident_form or IncidentForm(),
            "components": component_list(),
            "base_url": settings.BASE_URL,
            "detected": detected_confirmed(exclude_ids=published_detected_ids()),
            "maintenance_form": maintenance_form or MaintenanceForm(),
        },
        status=status,
    )


@role_required(Role.VIEWER)
@require_GET
def manage(request: HttpRequest) -> HttpResponse:
    return _manage_page(request)


@role_required(Role.RESPONDER)
@require_POST
def manage_incident_new(request: HttpRequest) -> HttpResponse:
    form = IncidentForm(request.POST)
    if form.is_valid():
        try:
            incident = public_incident_open(
                title=form.cleaned_data["title"],
                service_ids=form.cleaned_data["components"],
                impact=form.cleaned_data["impact"],
                status=form.cleaned_data["status"],
                body=form.cleaned_data["body"],
                actor=request.user,
            )
        except StatusError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Posted “{incident.title}” to the status page. {_mailed(incident)}")
            return HttpResponseRedirect(reverse("status:manage_incident", args=[incident.pk]))
    return _manage_page(request, incident_form=form, status=400)


@role_required(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def manage_incident(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(public_incident_list(public=False), pk=pk)
    form = UpdateForm(request.POST or None, initial={"status": incident.status, "impact": incident.impact})
    if request.method == "POST":
        if not _can_act(request):
            raise PermissionDenied("posting an update needs the Responder role")
        if form.is_valid():
            try:
                public_incident_update(
                    incident=incident,
                    status=form.cleaned_data["status"],
                    impact=form.cleaned_data["impact"],
                    body=form.cleaned_data["body"],
                    actor=request.user,
                )
            except UpdateAlreadyPosted as exc:
                messages.info(request, str(exc))
                return HttpResponseRedirect(reverse("status:manage_incident", args=[incident.pk]))
            except StatusError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Update posted. {_mailed(incident)}")
                return HttpResponseRedirect(reverse("status:manage_incident", args=[incident.pk]))
    return render(
        request,
        "status/manage_incident.html",
        {"incident": incident, "form": form, "can_act": _can_act(request)},
        status=400 if form.errors else 200,
    )


@role_required(Role.RESPONDER)
@require_POST
def manage_maintenance_new(request: HttpRequest) -> HttpResponse:
    form = MaintenanceForm(request.POST)
    if form.is_valid():
        try:
            maintenance_schedule(
                title=form.cleaned_data["title"],
                service_ids=form.cleaned_data["components"],
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
                body=form.cleaned_data["body"],
                actor=request.user,
            )
        except StatusError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Maintenance scheduled.")
            tell_time_notes(request, form)  # a time the clocks repeat: which of the two was taken
            return HttpResponseRedirect(reverse("status:manage"))
    return _manage_page(request, maintenance_form=form, status=400)


@role_required(Role.RESPONDER)
@require_POST
def manage_maintenance_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    maintenance_cancel(maintenance=get_object_or_404(Maintenance, pk=pk), actor=request.user)
    messages.success(request, "Maintenance cancelled.")
    return HttpResponseRedirect(reverse("status:manage"))


def _back(request: HttpRequest) -> str:
    """Where a publish that cannot go ahead returns to: the page that asked (`next`, same site only)."""
    return next_url(request, reverse("status:manage"))


@role_required(Role.RESPONDER)
@require_http_methods(["GET", "POST"])
def publish_detected(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Publish a detected incident in two steps: GET shows the drafted title, impact and updates to edit;
    POSTing that form publishes them as edited. Nothing is public (or e-mailed) before that POST.

    A POST without the form's fields (the incident page's button, scripts) publishes the draft as written."""
    try:
        draft = public_incident_draft(incident_id=incident_id)
    except StatusError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(_back(request))
    reviewed = request.method == "POST" and "title" in request.POST
    form = PublishDetectedForm(
        request.POST if reviewed else None,
        initial={
            "title": draft.title,
            "impact": draft.impact,
            "body": draft.body,
            "resolved_body": draft.resolved_body,
        },
        resolved=draft.resolved_body is not None,
    )
    if request.method == "POST" and (not reviewed or form.is_valid()):
        edits = form.cleaned_data if reviewed else {}
        try:
            incident = public_incident_from_detected(
                incident_id=incident_id,
                actor=request.user,
                title=edits.get("title"),
                body=edits.get("body"),
                impact=edits.get("impact"),
                resolved_body=edits.get("resolved_body"),
            )
        except StatusError as exc:
            if not reviewed:
                messages.error(request, str(exc))
                return HttpResponseRedirect(_back(request))
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Published “{incident.title}” on the status page. {_mailed(incident)}")
            return HttpResponseRedirect(reverse("status:manage_incident", args=[incident.pk]))
    return render(
        request,
        "status/publish_detected.html",
        {"draft": draft, "detected": draft.detected, "form": form, "back": _back(request)},
        status=400 if form.errors else 200,
    )
