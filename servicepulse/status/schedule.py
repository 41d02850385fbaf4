"""Periodic jobs for the status page (enqueued by servicepulse.core.scheduler)."""

from servicepulse.core.scheduler import Periodic
from servicepulse.status.tasks import maintenance_notify_due_task

SCHEDULE = [Periodic(name="status.maintenance_notify_due", task=maintenance_notify_due_task, seconds=300)]
