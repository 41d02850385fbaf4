"""Periodic jobs for engage (enqueued by servicepulse.core.scheduler)."""

from servicepulse.core.scheduler import Periodic
from servicepulse.engage.tasks import loop_deliver_due_task, you_said_we_did_task

SCHEDULE = [
    Periodic(name="engage.loop_deliver_due", task=loop_deliver_due_task, seconds=300),
    # Monday morning: the leader finds last week's draft waiting on the blog.
    Periodic(
        name="engage.you_said_we_did",
        task=you_said_we_did_task,
        cron={"day_of_week": "mon", "hour": 7, "minute": 0},
    ),
]
