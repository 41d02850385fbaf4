"""`servicepulse import-tickets FILE.csv` — service-desk tickets (opened, resolved, service, priority)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.experience.services import TicketFileError, tickets_import_file


class Command(BaseCommand):
    help = (
        "Import service-desk tickets from CSV with the columns opened, resolved, service, priority (and "
        "optionally reference). Bad rows are reported with their line numbers and kept out; re-importing "
        "the same file changes nothing. Exits 1 when any row was rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = tickets_import_file(path=options["file"])
        except TicketFileError as exc:
            raise CommandError(str(exc)) from exc
        for line, reason in report.errors:
            self.stderr.write(f"line {line}: {reason}")
        self.stdout.write(json.dumps(report.as_dict()))
        if report.rejected:
            raise SystemExit(1)
