"""Core tasks. `noop` lets operators and tests check the queue end to end."""

from __future__ import annotations

from django_tasks import task


@task()
def noop() -> str:
    return "ok"


@task()
def recover_orphaned_tasks() -> int:
    """Requeue tasks whose worker died mid-run (see `tasks_recover_orphans`)."""
    from servicepulse.core.services import tasks_recover_orphans

    return tasks_recover_orphans()
