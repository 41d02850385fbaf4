"""The weekly report as HTML (page and e-mail), plain text and PDF (WeasyPrint). One body template serves
all three, so the PDF and the e-mail say exactly what the page says."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from servicepulse.experience.selectors import WeeklyReport


def _context(report: WeeklyReport, **extra: Any) -> dict[str, Any]:
    return {"report": report, "organisation": settings.SERVICEPULSE_ORGANISATION, **extra}


def report_print_html(report: WeeklyReport) -> str:
    """A standalone HTML document (no navigation, print styles): the PDF's source."""
    return render_to_string("experience/report_print.html", _context(report, for_email=False))


def report_email_html(report: WeeklyReport) -> str:
    return render_to_string("experience/report_print.html", _context(report, for_email=True))


def report_text(report: WeeklyReport, *, attached: bool = False) -> str:
    """The report as plain text; `attached` when it goes out with the PDF (the e-mail), so the command that
    prints it does not promise an attachment."""
    return render_to_string("experience/report_email.txt", _context(report, attached=attached))


def report_pdf(report: WeeklyReport) -> bytes:
    """The report as PDF bytes, charts included (inline SVG drawn as vectors by WeasyPrint)."""
    # WeasyPrint logs one INFO line per layout step (and parses its own stylesheets on import).
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    from weasyprint import HTML

    pdf = HTML(string=report_print_html(report), base_url=getattr(settings, "BASE_URL", None)).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)
