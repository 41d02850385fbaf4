"""Periodic experience jobs: the weekly report, e-mailed every Monday at 07:00 (organisation's time zone)."""

from servicepulse.core.scheduler import Periodic
from servicepulse.experience.tasks import weekly_report_send

SCHEDULE = [
    Periodic(
        name="experience.weekly_report_send",
        task=weekly_report_send,
        cron={"day_of_week": "mon", "hour": 7, "minute": 0},
    )
]
