"""`servicepulse worker [--until-idle]` — run background tasks (django-tasks-db's worker, or RQ's)."""

from __future__ import annotations

import socket
import uuid
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from servicepulse.core.arguments import positive_seconds
from servicepulse.core.models import WorkerHeartbeat
from servicepulse.core.services import heartbeat_start_thread, heartbeat_stop, tasks_recover_orphans


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
        stop = heartbeat_start_thread(name=worker_id, kind=WorkerHeartbeat.Kind.WORKER)
        recovered = tasks_recover_orphans()
        if recovered:
            self.stderr.write(f"requeued {recovered} task(s) left running by a worker that died")
        try:
            if settings.TASK_BACKEND == "rq":
                # django-tasks-rq's Job class runs a django_tasks Task (RQ's own calls a plain function).
                call_command(
                    "rqworker",
                    "default",
                    burst=options["until_idle"],
                    with_scheduler=False,
                    job_class="django_tasks_rq.Job",
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
