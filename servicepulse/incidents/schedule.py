"""Periodic incidents jobs: detection every five minutes, the alert retry/quiet-hours sweep every minute."""

from servicepulse.core.scheduler import Periodic
from servicepulse.incidents.tasks import alerts_deliver_due, run_detection

SCHEDULE = [
    Periodic(name="incidents.run_detection", task=run_detection, seconds=300),
    Periodic(name="incidents.alerts_deliver_due", task=alerts_deliver_due, seconds=60),
]
