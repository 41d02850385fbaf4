"""Periodic jobs for engage (enqueued by servicepulse.core.scheduler)."""

from servicepulse.core.scheduler import Periodic
from servicepulse.engage.tasks import loop_deliver_due_task

SCHEDULE = [Periodic(name="engage.loop_deliver_due", task=loop_deliver_due_task, seconds=300)]
