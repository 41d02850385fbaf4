"""Files the commands write (`export`, `analyze`): they appear only once complete. Cells of the CSV files the
pages export, safe to open in a spreadsheet."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from django.core.management.base import CommandError


@contextmanager
def complete_file(path: Path, *, newline: str | None = None, mode: int | None = None) -> Iterator[TextIO]:
    """A text handle whose content becomes `path` only when the block ends without an error: a command
    stopped part-way (Ctrl-C, a full disk, bad input half-way) leaves no file that looks whole, and an older
    `path` stays as it was. A path that is not a regular file (/dev/stdout, a named pipe, a symbolic link) is
    written to as it is. `mode` (e.g. 0o600 for personal data) is the new file's permissions from the start,
    whatever the umask; by default the umask's. Failing to write is a one-line CommandError."""
    if path.is_dir():
        raise CommandError(f"cannot write {path}: Is a directory")
    partial: Path | None = None
    try:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            handle = path.open("w", encoding="utf-8", newline=newline)
        else:
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
            partial = Path(name)
            handle = os.fdopen(fd, "w", encoding="utf-8", newline=newline)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with handle:
            yield handle
        if partial is not None:
            os.chmod(partial, 0o666 & ~_umask() if mode is None else mode)
            os.replace(partial, path)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# A cell a spreadsheet would read as a formula (CSV injection): it is written with a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: str) -> str:
    """`value` as a CSV cell that a spreadsheet shows as text: a post or a title beginning "=HYPERLINK(...)"
    must not run as a formula in the reader's Excel."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value
