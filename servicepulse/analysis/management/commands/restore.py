"""`servicepulse restore FILE` — load an export (mentions, analysis, corrections) into this database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.analysis.exporting import restore_file
from servicepulse.core.progress import progress_bar


class Command(BaseCommand):
    help = (
        "Restore a `servicepulse export` file: sources, mentions, their analysis and corrections. Load the same "
        'catalogue first. Bad lines go to quarantine; re-running adds nothing. Prints {"restored": N, ...}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        lines = sum(1 for _ in path.open("rb"))
        with progress_bar(total=lines, desc=f"restoring {path.name}", unit="line") as bar:
            report = restore_file(path=path, on_progress=lambda n: bar.update(n - bar.n))
        self.stdout.write(json.dumps(report.as_dict()))
        if report.rejected:
            raise SystemExit(1)
