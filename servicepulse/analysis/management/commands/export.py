"""`servicepulse export [--output FILE] [--source NAME]` — the service catalogue, then mentions with their
analysis as JSON Lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.analysis.exporting import export_write
from servicepulse.sources.models import Source


class Command(BaseCommand):
    help = (
        "Write the service catalogue (first line), then every mention with its analysis and corrections, as "
        "JSON Lines (stdout by default); `servicepulse restore` reads it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")
        parser.add_argument("--source", help="only this source's mentions")

    def handle(self, *args: Any, **options: Any) -> None:
        source = None
        if options["source"]:
            source = Source.objects.filter(name=options["source"]).first()
            if source is None:
                raise CommandError(f"no source named {options['source']!r}")
        if options["output"]:
            with _open_output(Path(options["output"])) as handle:
                count = export_write(handle, source=source)
            sys.stderr.write(f"exported {count} mentions to {options['output']}\n")
        else:
            export_write(self.stdout, source=source)


def _open_output(path: Path) -> TextIO:
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
