"""Replays every kept crash and corpus input through its fuzz target, and runs each target briefly under
atheris (the bounded CI run; `make fuzz` runs longer)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _kept_inputs() -> list[tuple[str, Path]]:
    found = []
    for folder in ("crashes",):
        for target_dir in sorted((ROOT / "fuzz" / folder).glob("*")):
            if target_dir.is_dir():
                found.extend((target_dir.name, path) for path in sorted(target_dir.iterdir())[:200])
    return found


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "path"),
    _kept_inputs()
    or [pytest.param("", Path(), marks=pytest.mark.skip(reason="no crash kept in fuzz/crashes/"))],
)
def test_kept_inputs_do_not_crash(target: str, path: Path) -> None:
    from fuzz.targets import TARGETS

    if target not in TARGETS:
        pytest.fail(f"fuzz/{path.parent.parent.name}/{target} names no fuzz target")
    TARGETS[target](path.read_bytes())


@pytest.mark.slow
@pytest.mark.own_database  # parsers only: nothing to repeat on PostgreSQL
def test_bounded_fuzz_run_is_clean(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "run.py"), "--all", "--seconds", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "fuzzing clean" in result.stdout
