"""A worker killed with SIGKILL in the middle of analysing a batch: after a restart every mention has exactly
one analysis (none lost, none doubled), and the task the dead worker held is run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.sources.test_import import GOOD, _subprocess_env, write_lines

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

COUNTS = (
    "import json; from django_tasks_db.models import DBTaskResult; "
    "from servicepulse.analysis.models import MentionAnalysis, ServiceTag; from django.db.models import Count; "
    "print(json.dumps({'analysed': MentionAnalysis.objects.count(), "
    "'doubled_tags': ServiceTag.objects.values('analysis', 'service').annotate(n=Count('id')).filter(n__gt=1).count(), "
    "'status': dict(DBTaskResult.objects.values_list('status').annotate(n=Count('id')))}))"
)


def _counts(env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    out = run_cli("manage", "shell", "-c", COUNTS, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_kill_worker_mid_batch_then_restart(tmp_path: Path) -> None:
    n = 1024  # four batches of 256: after the first, three still to run when the kill lands
    texts = [
        "moodle is down again",
        "eduroam keeps dropping in the library",
        "thanks for fixing the printers",
    ]
    path = write_lines(
        tmp_path / "m.jsonl",
        [
            json.dumps({**GOOD, "id": f"w{i}", "text": f"{texts[i % 3]} ({i})", "author": f"a{i}"})
            for i in range(n)
        ],
    )
    env = {**_subprocess_env(tmp_path / "w.sqlite3"), "SERVICEPULSE_TORCH_THREADS": "1"}
    if "sqlite" in env["DATABASE_URL"]:
        assert run_cli("manage", "migrate", "-v", "0", env=env).returncode == 0
    setup = (
        "from servicepulse.catalog.services import catalog_load; "
        "from servicepulse.demo.catalog import DEMO_CATALOG; catalog_load(data=DEMO_CATALOG)"
    )
    assert run_cli("manage", "shell", "-c", setup, env=env).returncode == 0
    assert run_cli("import", str(path), "--source", "w", env=env).returncode == 0

    def start_worker() -> subprocess.Popen:  # type: ignore[type-arg]
        return subprocess.Popen(
            [sys.executable, "-m", "servicepulse.cli", "worker", "--interval", "0.2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    deadline = time.monotonic() + 240
    worker = start_worker()
    counts = _counts(env)
    while time.monotonic() < deadline and counts["analysed"] < 256:  # the model is loaded, one batch done
        time.sleep(0.3)
        counts = _counts(env)
    # Kill while a batch is being analysed (a task is RUNNING), not between batches. Reading the state takes a
    # process start (about a second), so the batch seen running may have finished when the kill lands: then
    # the kill proved nothing, and a new worker is started and killed again.
    for _attempt in range(4):
        while time.monotonic() < deadline and counts["status"].get("RUNNING", 0) == 0:
            counts = _counts(env)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        after_kill = _counts(env)
        if after_kill["status"].get("RUNNING", 0) == 1 or after_kill["analysed"] >= n - 256:
            break
        worker = start_worker()
        counts = _counts(env)
    assert 0 < after_kill["analysed"] < n, after_kill
    assert after_kill["status"].get("RUNNING", 0) == 1, after_kill  # the batch the dead worker held

    restart = subprocess.run(
        [sys.executable, "-m", "servicepulse.cli", "worker", "--until-idle"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert restart.returncode == 0, restart.stderr[-2000:]
    assert "requeued 1 task(s)" in restart.stderr
    final = _counts(env)
    assert final["analysed"] == n
    assert final["doubled_tags"] == 0
    assert set(final["status"]) == {"SUCCESSFUL"}, final
