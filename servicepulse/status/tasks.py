"""Background work for the status page. Thin: take keys/ids, call a service."""

from __future__ import annotations

from django_tasks import task

from servicepulse.status.services import maintenance_notify_due, status_forget_old, subscribers_notify


@task()
def notify_subscribers(key: str) -> int:
    """E-mail subscribers about `key` (update:<id> or maintenance:<id>); a missing row sends nothing."""
    return subscribers_notify(key=key)


@task()
def maintenance_notify_due_task() -> int:
    """Periodic: e-mail subscribers when maintenance windows start and end."""
    return len(maintenance_notify_due())


@task()
def forget_old_task() -> int:
    """Nightly: delete the old e-mail log and ended subscriptions."""
    return sum(status_forget_old())
