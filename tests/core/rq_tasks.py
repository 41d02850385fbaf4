"""Tasks that misbehave on purpose, for test_rq_worker.py: the RQ worker imports them by module path in its
own process (the repository root is on its path, as `python -m servicepulse.cli` runs from there)."""

from __future__ import annotations

import time

from django_tasks import task


@task()
def sleep_for(seconds: float) -> None:
    """Outlive the timeout the test gives its job."""
    time.sleep(seconds)


@task()
def fail_loudly() -> None:
    raise RuntimeError("this task fails on purpose")
