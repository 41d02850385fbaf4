"""Periodic jobs. Each app may have a `schedule.py` with `SCHEDULE: list[Periodic]`; the scheduler (APScheduler)
only enqueues those django_tasks at their times, so the work itself runs on the workers.

`servicepulse scheduler` (also started by `servicepulse run`) enqueues them while it holds the database lease
"scheduler"; further schedulers stand by for fail-over, so each job is enqueued once.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """Enqueue `task` (a django_tasks Task taking no arguments) every `seconds`, or on a cron spec."""

    name: str
    task: Any
    seconds: int | None = None
    cron: dict[str, Any] = field(default_factory=dict)  # APScheduler cron fields, e.g. {"day_of_week": "mon"}


def periodic_jobs() -> list[Periodic]:
    jobs: list[Periodic] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("servicepulse."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.schedule")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.schedule":
                continue
            raise
        jobs.extend(getattr(module, "SCHEDULE", []))
    return jobs


def _enqueue(job: Periodic) -> None:
    try:
        job.task.enqueue()
    except Exception:  # a failed enqueue must not stop the scheduler; the next tick tries again
        logger.exception("could not enqueue periodic job %s", job.name)


def build_scheduler(*, blocking: bool = True) -> Any:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler() if blocking else BackgroundScheduler()
    for job in periodic_jobs():
        if job.seconds:
            scheduler.add_job(
                _enqueue, "interval", seconds=job.seconds, args=[job], id=job.name, coalesce=True
            )
        else:
            scheduler.add_job(_enqueue, "cron", args=[job], id=job.name, coalesce=True, **job.cron)
    return scheduler
