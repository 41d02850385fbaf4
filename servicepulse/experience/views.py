from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from servicepulse.accounts.roles import Role, role_required
from servicepulse.experience.periods import IsoWeek, WeekError
from servicepulse.experience.rendering import report_pdf
from servicepulse.experience.selectors import report_build

INDEX_WEEKS = 12


def _week(request: HttpRequest) -> IsoWeek:
    text = request.GET.get("week", "").strip()
    week = IsoWeek.parse(text) if text else IsoWeek.last_complete()
    if week.start > timezone.now():
        raise WeekError(f"week {week.label} has not started yet")
    return week


def _bad_week(request: HttpRequest, error: WeekError) -> HttpResponse:
    """The reason, in the site's layout, with the way back (the week box leads here on a typo)."""
    return render(request, "experience/bad_week.html", {"error": error}, status=400)


@role_required(Role.VIEWER)
def index(request: HttpRequest) -> HttpResponse:
    current = IsoWeek.containing(timezone.now())
    weeks = [current.previous(i) for i in range(INDEX_WEEKS)]
    return render(request, "experience/index.html", {"weeks": weeks})


@role_required(Role.VIEWER)
def report(request: HttpRequest) -> HttpResponse:
    try:
        week = _week(request)
    except WeekError as exc:
        return _bad_week(request, exc)
    return render(request, "experience/report.html", {"report": report_build(week=week)})


@role_required(Role.VIEWER)
def report_pdf_download(request: HttpRequest) -> HttpResponse:
    try:
        week = _week(request)
    except WeekError as exc:
        return _bad_week(request, exc)
    response = HttpResponse(report_pdf(report_build(week=week)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="servicepulse-report-{week.label}.pdf"'
    return response
