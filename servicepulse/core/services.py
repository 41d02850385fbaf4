"""Writes about the running system: worker and scheduler heartbeats, the scheduler's lease, the nightly housekeeping."""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timedelta

from django.db import DatabaseError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from servicepulse.core.models import Lease, WorkerHeartbeat

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


def lease_acquire(*, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or renew the lease `name` for `holder` until `now + ttl`: True when `holder` now holds it.

    One conditional UPDATE decides (the lease is free, expired or already ours), so two processes asking at
    once on any database get one yes between them; the row is created on first use."""
    now = now or timezone.now()
    with transaction.atomic():
        Lease.objects.get_or_create(name=name)
        taken = (
            Lease.objects.filter(name=name)
            .filter(Q(holder=holder) | Q(holder="") | Q(expires_at__isnull=True) | Q(expires_at__lte=now))
            .update(holder=holder, expires_at=now + ttl)
        )
    return taken == 1


def lease_release(*, name: str, holder: str) -> None:
    """Give the lease up at once (a clean stop), so a standby takes over without waiting for it to expire."""
    Lease.objects.filter(name=name, holder=holder).update(holder="", expires_at=None)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def tasks_recover_orphans(
    *, stale_after: timedelta = timedelta(seconds=90), starting_worker: str | None = None
) -> int:
    """Put back on the queue the tasks whose worker died while running them (killed, machine lost).

    A running task's worker is dead when its heartbeat is gone or stale, or, on this machine, when its
    process no longer exists. `starting_worker` is the id of a worker that is only now starting: tasks held
    under that id were left by its previous process (a systemd unit restarts with the same `--worker-id`, and
    its new heartbeat would make them look alive for ever). Tasks are written to be idempotent (they take ids
    and re-read rows), so running one again is safe. Database backend only. Returns how many tasks were requeued.
    """
    from django.conf import settings
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if settings.TASK_BACKEND != "database":
        return 0
    now = timezone.now()
    here = socket.gethostname()
    beats = {beat.name: beat for beat in WorkerHeartbeat.objects.all()}
    orphans = []
    for task_id, worker_ids in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).values_list(
        "id", "worker_ids"
    ):
        beat = beats.get(worker_ids[-1]) if worker_ids else None
        dead = (
            beat is None
            or worker_ids[-1] == starting_worker
            or now - beat.last_beat_at > stale_after
            or (beat.hostname == here and not _process_alive(beat.pid))
        )
        if dead:
            orphans.append(task_id)
    if not orphans:
        return 0
    return DBTaskResult.objects.filter(id__in=orphans, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None
    )


def housekeeping_run(*, now: datetime | None = None, batch: int = 5000) -> int:
    """The nightly clean-up of what the running system leaves behind; returns how many task results it deleted.

    - Finished task results (database backend): every task the worker ran stays a row, some 7,000 a day from
      the periodic jobs alone. Successful ones go after SERVICEPULSE_TASK_RESULTS_KEEP_DAYS, failed ones (their
      traceback is what an operator looks into) after SERVICEPULSE_FAILED_TASKS_KEEP_DAYS; waiting and running
      ones stay. Deleted `batch` rows at a time, so a first run over a year's rows never holds SQLite's write
      lock for long.
    - Expired sign-in sessions, through the session engine's own `clear_expired` (what `clearsessions` runs).
    - Heartbeats not renewed for a week: processes killed without a clean stop leave their row (a worker
      started without `--worker-id` has a new name each time). /health/ reads the freshest beat, and a task
      held by a worker whose beat is gone is requeued as for a stale one.
    """
    from importlib import import_module

    from django.conf import settings
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    deleted = 0
    if settings.TASK_BACKEND == "database":
        old = DBTaskResult.objects.filter(
            Q(
                status=TaskResultStatus.SUCCESSFUL,
                finished_at__lt=now - timedelta(days=settings.SERVICEPULSE_TASK_RESULTS_KEEP_DAYS),
            )
            | Q(
                status=TaskResultStatus.FAILED,
                finished_at__lt=now - timedelta(days=settings.SERVICEPULSE_FAILED_TASKS_KEEP_DAYS),
            )
        )
        while ids := list(old.values_list("id", flat=True)[:batch]):
            deleted += DBTaskResult.objects.filter(id__in=ids).delete()[0]
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    WorkerHeartbeat.objects.filter(last_beat_at__lt=now - timedelta(days=7)).delete()
    return deleted


def rq_worker_forget_killed(*, name: str) -> bool:
    """Remove the RQ registration a killed worker left under `name` (it never registered its death), so a
    worker restarted under the same name can start: RQ refuses a name still registered as alive, for up to
    eight minutes. Names given with `--worker-id` are unique across the deployment (as the database backend
    also requires), so a live registration under ours is our killed predecessor's. RQ backend only. Returns
    whether one was removed."""
    import django_rq
    from rq.worker import Worker

    connection = django_rq.get_connection("default")
    key = f"{Worker.redis_worker_namespace_prefix}{name}"
    if not connection.exists(key) or connection.hexists(key, "death"):
        return False
    worker = Worker.find_by_key(key, connection=connection)
    if worker is None:
        return False
    worker.register_death()
    return True


def tasks_move_to_rq() -> int:
    """Hand the tasks still waiting in the database queue to RQ, after a switch to SERVICEPULSE_TASK_BACKEND=rq.

    Tasks enqueued before the switch (a post's analysis, a confirmation e-mail) stay rows in the database,
    which no RQ worker reads: each is enqueued again on RQ with its arguments and its row deleted. Rows are
    claimed with SKIP LOCKED (on PostgreSQL), so workers starting together move each task once. RQ backend
    only. Returns how many tasks were moved."""
    from django.conf import settings
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    if settings.TASK_BACKEND != "rq":
        return 0
    moved = 0
    with transaction.atomic():
        for row in DBTaskResult.objects.filter(status=TaskResultStatus.READY).select_for_update(
            skip_locked=True
        ):
            try:
                task = import_string(row.task_path)
            except ImportError:
                continue  # a task this release no longer has: nothing could run it on either backend
            run_after = None if row.run_after == get_date_max() else row.run_after
            task.using(priority=row.priority, run_after=run_after).enqueue(
                *row.args_kwargs["args"], **row.args_kwargs["kwargs"]
            )
            row.delete()
            moved += 1
    return moved
