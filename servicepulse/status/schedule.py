"""Periodic jobs for the status page (enqueued by servicepulse.core.scheduler)."""

from servicepulse.core.scheduler import Periodic
from servicepulse.status.tasks import forget_old_task, maintenance_notify_due_task

SCHEDULE = [
    Periodic(name="status.maintenance_notify_due", task=maintenance_notify_due_task, seconds=300),
    Periodic(name="status.forget_old", task=forget_old_task, cron={"hour": 3, "minute": 55}),
]
