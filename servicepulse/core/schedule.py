from servicepulse.core.scheduler import Periodic
from servicepulse.core.tasks import housekeeping, recover_orphaned_tasks

SCHEDULE = [
    Periodic(name="core.recover_orphaned_tasks", task=recover_orphaned_tasks, seconds=60),
    Periodic(name="core.housekeeping", task=housekeeping, cron={"hour": 3, "minute": 50}),
]
