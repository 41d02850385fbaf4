"""Core tasks. `noop` lets operators and tests check the queue end to end."""

from __future__ import annotations

from django_tasks import task


@task()
def noop() -> str:
    return "ok"
