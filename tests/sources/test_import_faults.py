"""PostgreSQL stops under a running import: the import fails clearly, and after the server is back a re-run
completes exactly (no loss, no duplicate)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.cli import run_cli
from tests.sources.test_import import GOOD, _subprocess_env, write_lines

pytestmark = [pytest.mark.slow]


def _cluster() -> list[str]:
    versions = sorted(Path("/etc/postgresql").glob("*/main"))
    if not versions or shutil.which("pg_ctlcluster") is None:
        pytest.skip("needs a local PostgreSQL cluster managed by pg_ctlcluster (Debian's postgresql)")
    return [versions[-1].parent.name, "main"]


def _pg(action: str, cluster: list[str]) -> None:
    args = ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action]
    if action == "stop":
        args += ["--", "-m", "fast"]
    subprocess.run(args, check=True, capture_output=True, timeout=120)


def _wait_for_pg(env: dict[str, str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if run_cli("stats", "--json", env=env).returncode == 0:
            return
        time.sleep(0.5)
    raise AssertionError("PostgreSQL did not come back")


@pytest.mark.postgres
@pytest.mark.serial
@pytest.mark.django_db(transaction=True)
def test_postgres_stopped_mid_import_then_rerun_is_exact(tmp_path: Path) -> None:
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.skip("runs in the PostgreSQL pass of the suite (DATABASE_URL=postgres://...)")
    cluster = _cluster()
    n = 30000
    path = write_lines(
        tmp_path / "big.jsonl", [json.dumps({**GOOD, "id": f"p{i}", "text": f"post {i}"}) for i in range(n)]
    )
    env = _subprocess_env(tmp_path / "unused.sqlite3")
    connection.close()  # our own connection would be cut too
    proc = subprocess.Popen(
        [sys.executable, "-m", "servicepulse.cli", "import", str(path), "--source", "pg"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            stats = run_cli("stats", "--json", env=env)
            if stats.returncode == 0 and json.loads(stats.stdout)["mentions"] >= 2000:
                break
            time.sleep(0.2)
        _pg("stop", cluster)
        out, err = proc.communicate(timeout=120)
    finally:
        _pg("start", cluster)
    _wait_for_pg(env)
    assert proc.returncode == 2, (out, err)
    assert "run the same command again" in err
    assert "Traceback" not in err

    rerun = run_cli("import", str(path), "--source", "pg", env=env)
    assert rerun.returncode == 0, rerun.stderr
    counts = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert counts["imported"] + counts["duplicates"] == n
    assert counts["duplicates"] > 0
    final = json.loads(run_cli("stats", "--json", env=env).stdout)
    assert final == {"mentions": n, "quarantined": 0, "sources": {"pg": n}}


@pytest.mark.django_db(transaction=True)
def test_ten_thousand_duplicate_deliveries_from_two_processes_store_one_row_each(tmp_path: Path) -> None:
    """Two importers race over the same 10,000 deliveries of 50 posts: each post is stored exactly once."""
    lines = [json.dumps({**GOOD, "id": f"d{i % 50}", "text": f"post {i % 50}"}) for i in range(10000)]
    path = write_lines(tmp_path / "dups.jsonl", lines)
    env = _subprocess_env(tmp_path / "dups.sqlite3")
    if "sqlite" in env["DATABASE_URL"]:
        assert run_cli("manage", "migrate", "-v", "0", env=env).returncode == 0
    assert run_cli("manage", "shell", "-c", _CREATE_SOURCE, env=env).returncode == 0
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "servicepulse.cli", "import", str(path), "--source", "dups"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], results
    counts = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
    assert all(c["imported"] + c["duplicates"] == 10000 for c in counts)
    final = json.loads(run_cli("stats", "--json", env=env).stdout)
    assert final == {"mentions": 50, "quarantined": 0, "sources": {"dups": 50}}


_CREATE_SOURCE = (
    "from servicepulse.sources.services import source_get_or_create; "
    "source_get_or_create(kind='import', name='dups')"
)
