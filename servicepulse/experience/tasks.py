"""Background jobs for experience: the weekly report e-mail."""

from __future__ import annotations

import logging

from django.conf import settings
from django_tasks import task

from servicepulse.experience.periods import IsoWeek
from servicepulse.experience.services import report_email_send

logger = logging.getLogger(__name__)


@task()
def weekly_report_send() -> int:
    """E-mail last week's report to SERVICEPULSE_REPORT_RECIPIENTS (nothing to do when none are set)."""
    recipients = list(getattr(settings, "SERVICEPULSE_REPORT_RECIPIENTS", []) or [])
    if not recipients:
        logger.info("weekly report: no SERVICEPULSE_REPORT_RECIPIENTS configured, nothing sent")
        return 0
    return report_email_send(week=IsoWeek.last_complete().label, recipients=recipients)
