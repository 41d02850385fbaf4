from servicepulse.core.scheduler import Periodic
from servicepulse.publish.tasks import weekly_digest

SCHEDULE = [
    Periodic(name="publish.weekly_digest", task=weekly_digest, cron={"day_of_week": "mon", "hour": 7})
]
