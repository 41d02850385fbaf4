"""Alert rules (admin): the incidents app owns the AlertRule model; this page lists its rows and creates them
through `alert_rule_create`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from servicepulse.accounts.roles import Role, role_required
from servicepulse.dashboard.forms import AlertRuleForm
from servicepulse.dashboard.readers import app_function
from servicepulse.dashboard.selectors import alert_rule_rows


@role_required(Role.ADMIN)
def alert_rules(request: HttpRequest) -> HttpResponse:
    create = app_function("servicepulse.incidents.services", "alert_rule_create")
    form = AlertRuleForm(request.POST or None)
    if request.method == "POST" and create is not None and form.is_valid():
        data = form.cleaned_data
        try:
            rule = create(
                name=data["name"],
                channel=data["channel"],
                target=data["target"],
                service_ids=data["services"],
                min_state=data["min_state"],
                secret=data["secret"],
                quiet_start=data["quiet_start"],
                quiet_end=data["quiet_end"],
            )
        except (ValidationError, ValueError) as exc:
            form.add_error(None, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, f"Added the alert rule {rule}.")
            return redirect("dashboard:alerts")
    rows = alert_rule_rows()
    return render(
        request,
        "dashboard/alerts.html",
        {"rows": rows, "available": rows is not None, "form": form, "can_create": create is not None},
    )
