from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from servicepulse.accounts.roles import Role, role_required
from servicepulse.catalog.selectors import service_first_added_at
from servicepulse.experience.periods import IsoWeek, WeekError, weeks_since
from servicepulse.experience.rendering import report_pdf
from servicepulse.experience.selectors import report_build
from servicepulse.mentions.selectors import mention_first_at

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
    # Only weeks since servicepulse first had something to report on: a post, or a service in the catalogue.
    known = [t for t in (mention_first_at(), service_first_added_at()) if t is not None]
    weeks = weeks_since(first=min(known, default=None), now=timezone.now(), limit=INDEX_WEEKS)
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
