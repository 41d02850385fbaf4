"""Alert rules (admin): the incidents app owns the AlertRule model; this page lists its rows, adds and edits
them (`alert_rule_create`, `alert_rule_update`), switches them on and off and deletes them (after a
confirmation), all through the incidents app's services. Every change is a POST to this one address with an
``action``: create, edit, enable, disable, delete or test (with ``rule``, the rule's id). A test sends a marked
test alert through the rule's channel at once and shows how it went (`alert_rule_send_test`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from servicepulse.accounts.roles import Role, role_required
from servicepulse.catalog.models import Service
from servicepulse.dashboard.forms import AlertRuleForm
from servicepulse.dashboard.selectors import alert_rule_rows
from servicepulse.incidents.models import AlertRule
from servicepulse.incidents.selectors import alert_rule_get
from servicepulse.incidents.services import (
    alert_rule_create,
    alert_rule_delete,
    alert_rule_send_test,
    alert_rule_set_enabled,
    alert_rule_update,
)

RULE_ACTIONS = ("enable", "disable", "delete", "test")


def _rule(rule_id: str | None) -> AlertRule:
    rule = alert_rule_get(rule_id=rule_id or "")
    if rule is None:
        raise Http404("no such alert rule")
    return rule


def _save(form: AlertRuleForm) -> AlertRule | None:
    """The rule added or changed from a valid form, or None with the service's refusal added to the form."""
    data = form.cleaned_data
    fields: dict[str, Any] = {
        "name": data["name"],
        "channel": data["channel"],
        "target": data["target"],
        "service_ids": data["services"],
        "min_state": data["min_state"],
        "secret": data["secret"],
        "quiet_start": data["quiet_start"],
        "quiet_end": data["quiet_end"],
    }
    try:
        if form.editing is not None:
            return alert_rule_update(rule=form.editing, **fields)
        return alert_rule_create(**fields)
    except ValidationError as exc:
        errors = getattr(exc, "error_dict", {NON_FIELD_ERRORS: exc.error_list})
        for field, problems in errors.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
    except ValueError as exc:
        form.add_error(None, str(exc))
    return None


def _act_on_rule(request: HttpRequest, action: str) -> HttpResponse:
    rule = _rule(request.POST.get("rule"))
    if action == "test":
        trial = alert_rule_send_test(rule=rule)
        (messages.success if trial.sent else messages.error)(request, f"{rule}: {trial.line}")
    elif action == "delete":
        deliveries = alert_rule_delete(rule=rule)
        records = (
            f" and its {deliveries} delivery record{'s' if deliveries != 1 else ''}" if deliveries else ""
        )
        messages.success(request, f"Deleted the alert rule {rule}{records}.")
    else:
        alert_rule_set_enabled(rule=rule, enabled=action == "enable")
        if rule.enabled:
            messages.success(request, f"Enabled {rule}: it alerts from the next incident change on.")
        else:
            messages.success(request, f"Disabled {rule}: nothing more is sent through it until enabled.")
    return redirect(_page_url(_for_service(request)))


def _for_service(request: HttpRequest) -> Service | None:
    """The service the page is narrowed to (``service``, kept through every form on it), or None."""
    service_id = (request.POST if request.method == "POST" else request.GET).get("service", "")
    return Service.objects.filter(id=service_id).first() if service_id else None


def _page_url(service: Service | None) -> str:
    url = reverse("dashboard:alerts")
    return f"{url}?{urlencode({'service': service.id})}" if service is not None else url


@role_required(Role.ADMIN)
def alert_rules(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action", "create") if request.method == "POST" else ""
    service = _for_service(request)
    if action in RULE_ACTIONS:
        return _act_on_rule(request, action)
    if action not in ("", "create", "edit"):
        messages.error(request, "Unknown action.")
        return redirect(_page_url(service))
    unknown_service = (request.POST or request.GET).get("service", "") if service is None else ""
    editing = None
    if action == "edit" or (not action and request.GET.get("edit")):
        editing = _rule(request.POST.get("rule") if action else request.GET.get("edit"))
    deleting = _rule(request.GET.get("delete")) if not action and request.GET.get("delete") else None
    # Narrowed to a service, a new rule starts with that service ticked (the service page's "Add an alert
    # rule for ..." leads here).
    initial = {"services": [service.id]} if service is not None and editing is None else None
    form = AlertRuleForm(request.POST if action else None, editing=editing, initial=initial)
    if action and form.is_valid():
        rule = _save(form)
        if rule is not None:
            done = "Saved" if editing is not None else "Added"
            messages.success(request, f"{done} the alert rule {rule}.")
            return redirect(_page_url(service))
    if action:
        messages.error(request, "The rule was not saved: see what is marked below.")
    context = {
        "rows": alert_rule_rows(service_id=service.id if service is not None else ""),
        "form": form,
        "editing": editing,
        "deleting": deleting,
        "for_service": service,
        "unknown_service": unknown_service,
    }
    return render(request, "dashboard/alerts.html", context)
