"""`servicepulse worker [--until-idle]` — run background tasks (django-tasks-db's worker, or RQ's)."""

from __future__ import annotations

import socket
import uuid
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from rq.worker import SimpleWorker

from servicepulse.core.arguments import positive_seconds
from servicepulse.core.models import WorkerHeartbeat
from servicepulse.core.services import (
    heartbeat_start_thread,
    heartbeat_stop,
    tasks_move_to_rq,
    tasks_recover_orphans,
)


class InProcessWorker(SimpleWorker):
    """RQ's SimpleWorker: every job runs in this process instead of a work horse forked for it.

    RQ's default Worker forks once per job, so whatever a job caches dies with its horse: each analysis task
    imported torch and loaded the sentence encoder again (seconds per task, however small the batch). Here
    the process-wide caches (servicepulse.analysis.ml.encoder, .pipeline) survive from one job to the next,
    as they do under the database backend's worker. Job timeouts still hold: RQ arms its SIGALRM death
    penalty around every job, and this runs in the command's main thread, where that signal is delivered.
    A job that raises is marked failed and the worker goes on to the next one.
    """

    def execute_job(self, job: Any, queue: Any) -> None:
        # One long-lived process shares its database connections between jobs: drop any the previous job
        # broke or that outlived CONN_MAX_AGE, as Django does around each request and db_worker around each
        # task (a forked horse used to start with none).
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Run a background worker. --until-idle drains the queue and exits (database backend)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--until-idle", action="store_true", help="run what is queued, then exit")
        parser.add_argument(
            "--interval",
            type=positive_seconds,
            default=0.5,
            help="seconds between polls when idle (default 0.5)",
        )
        parser.add_argument("--worker-id", default=None, help="unique id (default: host, pid and random)")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = options["worker_id"] or f"{socket.gethostname()[:30]}-{uuid.uuid4().hex[:12]}"
        # Before this process beats under worker_id: tasks still held under it are its previous process's.
        recovered = tasks_recover_orphans(starting_worker=worker_id)
        # After a switch to RQ, what the database queue still held would otherwise never run.
        moved = tasks_move_to_rq()
        stop = heartbeat_start_thread(name=worker_id, kind=WorkerHeartbeat.Kind.WORKER)
        if recovered:
            self.stderr.write(f"requeued {recovered} task(s) left running by a worker that died")
        if moved:
            self.stderr.write(
                f"moved {moved} task(s) still queued in the database (before the switch to RQ) to RQ"
            )
        try:
            if settings.TASK_BACKEND == "rq":
                # django-tasks-rq's Job class runs a django_tasks Task (RQ's own calls a plain function);
                # InProcessWorker keeps the loaded models between tasks (see its docstring). RQ keeps a task
                # deferred with `run_after` (an alert retried later, a scheduled cross-post) in its scheduled
                # registry until a worker's scheduler moves it to the queue when due: without one it never
                # runs. RQ lets one worker's scheduler at a time do that (a lock in Redis); in --until-idle
                # (burst) it moves what is due once, before draining.
                call_command(
                    "rqworker",
                    "default",
                    burst=options["until_idle"],
                    with_scheduler=True,
                    job_class="django_tasks_rq.Job",
                    worker_class=InProcessWorker,
                )
            else:
                call_command(
                    "db_worker",
                    batch=options["until_idle"],
                    interval=options["interval"],
                    worker_id=worker_id,
                    reload=False,
                    startup_delay=not options["until_idle"],
                    verbosity=options["verbosity"],
                )
        finally:
            stop.set()
            heartbeat_stop(name=worker_id)
