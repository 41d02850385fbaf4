"""Periodic incidents jobs: detection every five minutes, the alert retry/quiet-hours sweep every minute, and
maintenance windows completed once their planned end has passed."""

from servicepulse.core.scheduler import Periodic
from servicepulse.incidents.tasks import alerts_deliver_due, maintenance_complete_due, run_detection

SCHEDULE = [
    Periodic(name="incidents.run_detection", task=run_detection, seconds=300),
    Periodic(name="incidents.alerts_deliver_due", task=alerts_deliver_due, seconds=60),
    Periodic(name="incidents.maintenance_complete_due", task=maintenance_complete_due, seconds=60),
]
