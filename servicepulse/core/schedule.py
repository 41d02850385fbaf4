from servicepulse.core.scheduler import Periodic
from servicepulse.core.tasks import recover_orphaned_tasks

SCHEDULE = [Periodic(name="core.recover_orphaned_tasks", task=recover_orphaned_tasks, seconds=60)]
