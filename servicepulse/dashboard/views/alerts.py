"""Alert rules (admin): the incidents app owns the AlertRule model; this page lists its rows and creates them
through `alert_rule_create`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from servicepulse.accounts.roles import Role, role_required
from servicepulse.dashboard.forms import AlertRuleForm
from servicepulse.dashboard.selectors import alert_rule_rows
from servicepulse.incidents.services import alert_rule_create


@role_required(Role.ADMIN)
def alert_rules(request: HttpRequest) -> HttpResponse:
    form = AlertRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule = alert_rule_create(
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
    return render(request, "dashboard/alerts.html", {"rows": alert_rule_rows(), "form": form})
