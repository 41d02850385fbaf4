"""Core tasks. `noop` lets operators and tests check the queue end to end."""

from __future__ import annotations

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def noop() -> str:
    return "ok"


@task()
def recover_orphaned_tasks() -> int:
    """Requeue tasks whose worker died mid-run (see `tasks_recover_orphans`)."""
    from servicepulse.core.services import tasks_recover_orphans

    return tasks_recover_orphans()


@task()
def housekeeping() -> int:
    """Nightly: delete old finished task results and expired sessions (see `housekeeping_run`)."""
    from servicepulse.core.services import housekeeping_run

    deleted = housekeeping_run()
    logger.info("housekeeping: deleted %d finished task result(s) and the expired sessions", deleted)
    return deleted
