from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from servicepulse.accounts.roles import Role, role_required
from servicepulse.catalog.selectors import service_list


@role_required(Role.VIEWER)
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/board.html", {"services": service_list()})
