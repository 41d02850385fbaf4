"""The nightly housekeeping deletes what the running system leaves behind (old finished task results, expired
sessions, heartbeats of processes long gone) and keeps what is still needed: waiting and running tasks, recent
results, failures for longer, live heartbeats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from servicepulse.core.models import WorkerHeartbeat
from servicepulse.core.scheduler import periodic_jobs
from servicepulse.core.services import housekeeping_run
from servicepulse.core.tasks import noop

pytestmark = pytest.mark.django_db


def _result(status: str, *, finished_days_ago: float | None) -> int:
    result = noop.enqueue()
    finished = None if finished_days_ago is None else timezone.now() - timedelta(days=finished_days_ago)
    DBTaskResult.objects.filter(id=result.id).update(status=status, finished_at=finished)
    return DBTaskResult.objects.get(id=result.id).pk


def test_deletes_old_finished_results_and_keeps_recent_failed_and_unfinished(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_TASK_RESULTS_KEEP_DAYS = 7
    settings.SERVICEPULSE_FAILED_TASKS_KEEP_DAYS = 30
    old_ok = [_result("SUCCESSFUL", finished_days_ago=8) for _ in range(5)]
    recent_ok = _result("SUCCESSFUL", finished_days_ago=6)
    failed_recent = _result("FAILED", finished_days_ago=20)
    failed_old = _result("FAILED", finished_days_ago=31)
    waiting = _result("READY", finished_days_ago=None)
    running = _result("RUNNING", finished_days_ago=None)

    deleted = housekeeping_run(batch=2)  # smaller than the backlog: it goes on until none are left

    assert deleted == 6
    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert left == {recent_ok, failed_recent, waiting, running}
    assert not left & {*old_ok, failed_old}
    assert housekeeping_run() == 0  # a second run finds nothing more


def test_keep_days_come_from_the_settings(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_TASK_RESULTS_KEEP_DAYS = 30
    kept = _result("SUCCESSFUL", finished_days_ago=8)
    assert housekeeping_run() == 0
    settings.SERVICEPULSE_TASK_RESULTS_KEEP_DAYS = 1
    assert housekeeping_run() == 1
    assert not DBTaskResult.objects.filter(pk=kept).exists()


def test_expired_sessions_go_and_live_ones_stay() -> None:
    live = SessionStore()
    live["user"] = "x"
    live.create()
    expired = SessionStore()
    expired["user"] = "y"
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )

    housekeeping_run()

    assert set(Session.objects.values_list("session_key", flat=True)) == {live.session_key}


def test_heartbeats_of_processes_gone_for_a_week_are_forgotten() -> None:
    now = timezone.now()
    for name, age in (
        ("host-1", timedelta(seconds=5)),
        ("host-2", timedelta(days=2)),
        ("old-1", timedelta(days=8)),
    ):
        WorkerHeartbeat.objects.create(name=name, started_at=now - age, last_beat_at=now - age)

    housekeeping_run()

    assert sorted(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["host-1", "host-2"]


def test_runs_every_night() -> None:
    job = next(job for job in periodic_jobs() if job.name == "core.housekeeping")
    assert job.cron == {"hour": 3, "minute": 50}
    assert job.task.enqueue().status == "READY"  # a task the worker can run, taking no arguments
