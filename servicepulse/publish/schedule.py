from servicepulse.core.scheduler import Periodic
from servicepulse.publish.tasks import (
    backfeed_scan_all_task,
    crosspost_counts_task,
    crossposts_send_due_task,
    weekly_digest,
)

SCHEDULE = [
    Periodic(name="publish.weekly_digest", task=weekly_digest, cron={"day_of_week": "mon", "hour": 7}),
    # Safety nets behind the tasks enqueued on commit: scheduled copies due, replies not yet scanned.
    Periodic(name="publish.crossposts_send_due", task=crossposts_send_due_task, seconds=60),
    Periodic(name="publish.backfeed_scan", task=backfeed_scan_all_task, seconds=300),
    Periodic(name="publish.crosspost_counts", task=crosspost_counts_task, seconds=900),
]
