"""Running the `servicepulse` command as a real process, as a user would."""

from __future__ import annotations

import subprocess
import sys


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
