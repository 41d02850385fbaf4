"""`servicepulse worker [--until-idle] [--interval S] [--worker-id ID]` — run background tasks (django-tasks-db's
worker, or RQ's)."""

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
    rq_worker_forget_killed,
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
    help = (
        "Run a background worker: django-tasks-db's (SERVICEPULSE_TASK_BACKEND=database, the default) or RQ's "
        "(rq). --until-idle runs what is queued, then exits, on either backend."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--until-idle", action="store_true", help="run what is queued, then exit")
        parser.add_argument(
            "--interval",
            type=positive_seconds,
            default=None,
            help="database backend only: seconds between polls when idle (default 0.5); an RQ worker waits "
            "on Redis for the next task instead",
        )
        parser.add_argument(
            "--worker-id",
            default=None,
            help="the worker's name, unique across the deployment (default: host and random); with the "
            "database backend, a worker restarted under the same id runs again at once the task its killed "
            "process held; with RQ, it is the RQ worker's name",
        )

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
                if options["interval"] is not None:
                    self.stderr.write("--interval applies to the database backend only: RQ waits on Redis")
                if rq_worker_forget_killed(name=worker_id):
                    self.stderr.write(f"cleared the RQ registration a killed worker left under {worker_id!r}")
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
                    name=worker_id,
                )
            else:
                call_command(
                    "db_worker",
                    batch=options["until_idle"],
                    interval=0.5 if options["interval"] is None else options["interval"],
                    worker_id=worker_id,
                    reload=False,
                    startup_delay=not options["until_idle"],
                    verbosity=options["verbosity"],
                )
        finally:
            stop.set()
            heartbeat_stop(name=worker_id)
