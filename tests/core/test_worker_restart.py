"""A worker unit restarted under the same `--worker-id` (systemd's `servicepulse-worker@.service` passes
`%H-%i`, the same at every restart) gets back the task its previous process was running when it died."""

from __future__ import annotations

import os
from pathlib import Path

from tests.cli import run_cli

# The previous process (id host-1) was killed while running a task. The restarted process beats its heart under
# the same id as soon as it starts, so by the time it looks for orphans the heartbeat of "host-1" is fresh and
# names a live process: what the row looks like after that first beat.
SETUP = """
import socket
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from servicepulse.core.models import WorkerHeartbeat
from servicepulse.core.tasks import noop

result = noop.enqueue()
DBTaskResult.objects.filter(id=result.id).update(
    status="RUNNING", started_at=timezone.now(), worker_ids=["host-1"]
)
now = timezone.now()
WorkerHeartbeat.objects.create(
    name="host-1", hostname=socket.gethostname(), pid={pid}, started_at=now, last_beat_at=now
)
"""
STATUS = (
    "from django_tasks_db.models import DBTaskResult; "
    "print(sorted(DBTaskResult.objects.values_list('status', flat=True)))"
)


def test_restarted_worker_with_the_same_id_requeues_the_task_its_previous_process_held(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPULSE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="servicepulse.config.settings.test",
        SERVICEPULSE_DATA_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'worker.sqlite3'}",
    )
    assert run_cli("manage", "migrate", "-v", "0", env=env, timeout=300).returncode == 0
    setup = run_cli("manage", "shell", "-c", SETUP.format(pid=os.getpid()), env=env)
    assert setup.returncode == 0, setup.stderr

    restart = run_cli("worker", "--worker-id", "host-1", "--until-idle", env=env, timeout=300)

    assert restart.returncode == 0, restart.stderr[-2000:]
    assert "requeued 1 task(s)" in restart.stderr
    status = run_cli("manage", "shell", "-c", STATUS, env=env)
    assert status.stdout.strip().splitlines()[-1] == "['SUCCESSFUL']", status.stderr[-2000:]
