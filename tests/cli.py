"""Running the `servicepulse` command as a real process, as a user would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`servicepulse ARGS` with this interpreter; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "servicepulse.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def rq_environment(*, data_dir: Path, database_url: str, redis_db: int) -> dict[str, str]:
    """The environment for `servicepulse` commands on the RQ backend (Redis database `redis_db` on
    127.0.0.1:6379), with `database_url` migrated: what a machine's environment file sets for scale-out."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="servicepulse.config.settings.dev",
        SERVICEPULSE_DATA_DIR=str(data_dir),
        SERVICEPULSE_TASK_BACKEND="rq",
        SERVICEPULSE_LOG_LEVEL="INFO",
        REDIS_URL=f"redis://127.0.0.1:6379/{redis_db}",
        DATABASE_URL=database_url,
    )
    migrated = run_cli("manage", "migrate", "-v0", env=env, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    return env


def port_open(port: int) -> bool:
    """Whether a server answers on 127.0.0.1:`port` (PostgreSQL 5432, Redis 6379)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
