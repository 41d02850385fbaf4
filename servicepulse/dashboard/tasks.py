"""Background work of the dashboard: keep the rollup current. Thin: call a service."""

from __future__ import annotations

from django_tasks import task

from servicepulse.dashboard import services


@task()
def rollup_catch_up() -> int:
    """Close the days that finished since the last run and recount the last ones (late analyses)."""
    return services.rollup_catch_up(recount_days=services.RECOUNT_DAYS)


@task()
def rollup_rebuild() -> int:
    """Recount the whole history window (late posts and corrections on old days are caught here)."""
    return services.rollup_rebuild()
