"""Periodic jobs of the sources app (see servicepulse.core.scheduler)."""

from servicepulse.core.scheduler import Periodic
from servicepulse.sources.tasks import sync_due_sources

SCHEDULE = [Periodic(name="sources.sync_due_sources", task=sync_due_sources, seconds=60)]
