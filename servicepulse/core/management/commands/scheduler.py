"""`servicepulse scheduler` — enqueue periodic jobs (source syncs, detection, reports). Run one per deployment."""

from __future__ import annotations

import signal
import socket
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from servicepulse.core.models import WorkerHeartbeat
from servicepulse.core.scheduler import build_scheduler, periodic_jobs
from servicepulse.core.services import heartbeat_start_thread, heartbeat_stop


class Command(BaseCommand):
    help = "Run the scheduler that enqueues periodic jobs; exactly one per deployment."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", action="store_true", help="list the periodic jobs and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = periodic_jobs()
        if options["list"]:
            for job in jobs:
                when = f"every {job.seconds}s" if job.seconds else f"cron {job.cron}"
                self.stdout.write(f"{job.name}\t{when}")
            return
        name = f"scheduler-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"

        def stop_on_sigterm(signum: int, frame: object) -> None:
            raise KeyboardInterrupt  # a service manager's stop is a Ctrl-C: the heartbeat row goes too

        signal.signal(signal.SIGTERM, stop_on_sigterm)
        stop = heartbeat_start_thread(name=name, kind=WorkerHeartbeat.Kind.SCHEDULER)
        self.stderr.write(f"scheduler {name}: {len(jobs)} periodic jobs")
        try:
            build_scheduler(blocking=True).start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            stop.set()
            heartbeat_stop(name=name)
