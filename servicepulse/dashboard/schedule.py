"""Periodic dashboard jobs: close finished days every ten minutes, recount the history nightly."""

from servicepulse.core.scheduler import Periodic
from servicepulse.dashboard.tasks import rollup_catch_up, rollup_rebuild

SCHEDULE = [
    Periodic(name="dashboard.rollup_catch_up", task=rollup_catch_up, seconds=600),
    Periodic(name="dashboard.rollup_rebuild", task=rollup_rebuild, cron={"hour": 3, "minute": 15}),
]
