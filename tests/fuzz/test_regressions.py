"""Replays every kept crash through its fuzz target. The fuzzing itself (atheris, every target) is `make fuzz`,
outside `make test`; the hypothesis property tests beside this file run in both."""

from __future__ import annotations

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
