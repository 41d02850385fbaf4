"""`servicepulse export [--output FILE] [--source NAME]` — the service catalogue, then mentions with their
analysis as JSON Lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.analysis.exporting import export_write
from servicepulse.core.output import complete_file
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
        "JSON Lines (stdout by default; a file is readable by its owner only: it holds everyone's posts); "
        "`servicepulse restore` reads it back, into this or another servicepulse. Not a backup: users, sources, "
        "incidents, the inbox, the status page and the blog are not in it (back up the database, "
        "docs/deployment.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            "-o",
            help="file to write ('-' or none: stdout), mode 0600; it appears only once the export is complete",
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
        with (
            complete_file(Path(output), mode=0o600) as handle,  # everyone's posts: personal data
            progress_bar(total=mentions.count() + 1, desc="exporting", unit="line") as bar,
        ):
            count = export_write(_Counting(handle, bar), source=source)
        sys.stderr.write(f"exported {count} mentions to {output}\n")
