"""complete_file: what `export` and `analyze` write appears only once complete."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from servicepulse.core.output import complete_file


def test_the_file_appears_only_when_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with complete_file(target) as handle:
        handle.write("a,b\n")
        assert not target.exists()  # still being written, under a hidden name
    assert target.read_text() == "a,b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def test_a_block_stopped_part_way_leaves_the_older_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("yesterday's whole file\n")
    with pytest.raises(KeyboardInterrupt), complete_file(target) as handle:
        handle.write("half of today's")
        raise KeyboardInterrupt
    assert target.read_text() == "yesterday's whole file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_symbolic_link_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with complete_file(link) as handle:
        handle.write("new\n")
    assert link.is_symlink() and real.read_text() == "new\n"


def test_unwritable_places_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"cannot write .*: Is a directory"), complete_file(tmp_path):
        pass
    missing = tmp_path / "nowhere" / "out.csv"
    with (
        pytest.raises(CommandError, match=r"nowhere/out.csv: No such file or directory"),
        complete_file(missing),
    ):
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
