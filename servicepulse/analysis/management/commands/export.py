"""`servicepulse export [--output FILE] [--source NAME]` — the service catalogue, then mentions with their
analysis as JSON Lines."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.analysis.exporting import export_write
from servicepulse.core.progress import progress_bar
from servicepulse.mentions.models import Mention
from servicepulse.sources.models import Source

STDOUT = "-"


class _Counting:
    """A text handle that advances a progress bar by one for each line written (export_write writes one
    record per call)."""

    def __init__(self, handle: Any, bar: Any) -> None:
        self.handle = handle
        self.bar = bar

    def write(self, text: str) -> None:
        self.handle.write(text)
        self.bar.update(1)


class Command(BaseCommand):
    help = (
        "Write the service catalogue (first line), then every mention with its analysis and corrections, as "
        "JSON Lines (stdout by default); `servicepulse restore` reads it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            "-o",
            help="file to write ('-' or none: stdout); it appears only once the export is complete",
        )
        parser.add_argument("--source", metavar="NAME", help="only this source's mentions")

    def handle(self, *args: Any, **options: Any) -> None:
        source = None
        if options["source"]:
            source = Source.objects.filter(name=options["source"]).first()
            if source is None:
                raise CommandError(f"no source named {options['source']!r}")
        mentions = Mention.objects.all() if source is None else Mention.objects.filter(source=source)
        output = options["output"]
        if output in (None, STDOUT):
            with progress_bar(total=mentions.count() + 1, desc="exporting", unit="line") as bar:
                export_write(_Counting(self.stdout, bar), source=source)
            return
        path = Path(output)
        handle, partial = _open_output(path)
        try:
            with handle, progress_bar(total=mentions.count() + 1, desc="exporting", unit="line") as bar:
                count = export_write(_Counting(handle, bar), source=source)
            if partial is not None:
                os.chmod(partial, 0o666 & ~_umask())
                os.replace(partial, path)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror}") from None
        finally:
            if partial is not None:
                partial.unlink(missing_ok=True)
        sys.stderr.write(f"exported {count} mentions to {output}\n")


def _open_output(path: Path) -> tuple[TextIO, Path | None]:
    """The handle to write the export to, and the file to move into place as `path` once it is complete: an
    export stopped part-way (Ctrl-C, a full disk) leaves no file that looks like a whole backup. A path that is
    not a regular file (/dev/stdout, a named pipe, a symbolic link) is written to as it is."""
    if path.is_dir():
        raise CommandError(f"cannot write {path}: Is a directory")
    try:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            return path.open("w", encoding="utf-8"), None
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
    return os.fdopen(fd, "w", encoding="utf-8"), Path(partial)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
