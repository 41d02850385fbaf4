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
    """E-mail last week's report to SERVICEPULSE_REPORT_RECIPIENTS (nothing to do when none are set), once per
    week and address: run again (a retry, a second scheduler), it sends only to whoever has not had it."""
    recipients = list(getattr(settings, "SERVICEPULSE_REPORT_RECIPIENTS", []) or [])
    if not recipients:
        logger.info("weekly report: no SERVICEPULSE_REPORT_RECIPIENTS configured, nothing sent")
        return 0
    week = IsoWeek.last_complete().label
    result = report_email_send(week=week, recipients=recipients)
    for address in result.invalid:
        logger.warning(
            "weekly report %s: %r in SERVICEPULSE_REPORT_RECIPIENTS is not an e-mail address", week, address
        )
    for address, reason in result.refused:
        logger.warning("weekly report %s: the mail server refused %s (%s)", week, address, reason)
    if result.already_sent:
        logger.info(
            "weekly report %s: already sent to %s, not sent again",
            week,
            ", ".join(address for address, _ in result.already_sent),
        )
    return len(result.sent)
