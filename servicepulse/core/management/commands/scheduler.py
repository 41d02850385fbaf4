"""`servicepulse scheduler` — enqueue periodic jobs (source syncs, detection, reports).

Several may run (one per machine, for fail-over): they share a lease in the database, the one holding it
enqueues the jobs and renews it, the others stand by and take over within `LEASE_TTL` when it stops or loses
the database. So a second scheduler never sends the weekly report twice.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import time
import uuid
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.base import STATE_STOPPED
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from servicepulse.core.models import WorkerHeartbeat
from servicepulse.core.scheduler import build_scheduler, periodic_jobs
from servicepulse.core.selectors import lease_holder
from servicepulse.core.services import heartbeat_start_thread, heartbeat_stop, lease_acquire, lease_release

LEASE = "scheduler"
LEASE_TTL = timedelta(seconds=30)  # how long a standby waits for a holder that stopped without a word
RENEW_SECONDS = 5.0


class Command(BaseCommand):
    help = (
        "Run the scheduler that enqueues periodic jobs. Several may run for fail-over: one enqueues, "
        "the others stand by."
    )

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
        beating = heartbeat_start_thread(name=name, kind=WorkerHeartbeat.Kind.SCHEDULER)
        scheduler = build_scheduler(blocking=False)
        try:
            self._lead_or_stand_by(name, scheduler, len(jobs))
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            beating.set()
            with contextlib.suppress(DatabaseError):  # else it expires by itself
                lease_release(name=LEASE, holder=name)
            heartbeat_stop(name=name)

    def _lead_or_stand_by(self, name: str, scheduler: Any, n_jobs: int) -> None:
        """Renew the lease every few seconds; enqueue while holding it, stand by while another does."""
        leading = False
        held_until = None
        said_standby = False
        while True:
            now = timezone.now()
            try:
                held = lease_acquire(name=LEASE, holder=name, ttl=LEASE_TTL, now=now)
                if held:
                    held_until = now + LEASE_TTL
            except DatabaseError:
                # The database is briefly unavailable: keep leading until our lease would have expired
                # (no standby can take it before then), then stop enqueueing.
                held = leading and held_until is not None and now < held_until
            finally:
                close_old_connections()
            if held and not leading:
                if scheduler.state == STATE_STOPPED:  # first time in the lead
                    scheduler.start()
                else:
                    scheduler.resume()
                leading, said_standby = True, False
                self.stderr.write(f"scheduler {name}: enqueueing {n_jobs} periodic jobs")
            elif not held and leading:
                scheduler.pause()
                leading = False
                self.stderr.write(f"scheduler {name}: lost the lease, standing by")
            if not held and not said_standby:
                said_standby = True
                self.stderr.write(f"scheduler {name}: standing by; {self._holder()} enqueues the jobs")
            time.sleep(RENEW_SECONDS)

    @staticmethod
    def _holder() -> str:
        try:
            lease = lease_holder(name=LEASE)
        except DatabaseError:
            return "another scheduler"
        if lease is None:
            return "another scheduler"
        return f"{lease.holder} (lease until {lease.expires_at:%H:%M:%S} UTC)"
