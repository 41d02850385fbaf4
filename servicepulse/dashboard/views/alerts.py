"""Alert rules (admin): the incidents app owns the AlertRule model; this page lists and edits its rows."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from servicepulse.accounts.roles import Role, role_required
from servicepulse.dashboard.selectors import alert_rule_rows


@role_required(Role.ADMIN)
def alert_rules(request: HttpRequest) -> HttpResponse:
    rows = alert_rule_rows()
    return render(request, "dashboard/alerts.html", {"rows": rows, "available": rows is not None})
