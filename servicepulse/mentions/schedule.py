from servicepulse.core.scheduler import Periodic
from servicepulse.mentions.tasks import apply_retention

SCHEDULE = [Periodic(name="mentions.apply_retention", task=apply_retention, cron={"hour": 3, "minute": 30})]
