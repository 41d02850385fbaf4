"""Writes about the running system: worker and scheduler heartbeats."""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime

from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from servicepulse.core.models import WorkerHeartbeat

BEAT_SECONDS = 15


def heartbeat_beat(
    *, name: str, kind: str = WorkerHeartbeat.Kind.WORKER, started_at: datetime | None = None
) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        name=name,
        defaults={
            "kind": kind,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "last_beat_at": now,
            "started_at": started_at or now,
        },
    )


def heartbeat_stop(*, name: str) -> None:
    WorkerHeartbeat.objects.filter(name=name).delete()


def heartbeat_start_thread(*, name: str, kind: str) -> threading.Event:
    """Beat every few seconds from a daemon thread until the returned event is set."""
    stop = threading.Event()
    started_at = timezone.now()

    def loop() -> None:
        while not stop.is_set():
            try:
                heartbeat_beat(name=name, kind=kind, started_at=started_at)
            except DatabaseError:
                pass  # the database is briefly unavailable; /health/ will show the beat going stale
            finally:
                close_old_connections()
            stop.wait(BEAT_SECONDS)

    threading.Thread(target=loop, name=f"heartbeat-{name}", daemon=True).start()
    return stop
