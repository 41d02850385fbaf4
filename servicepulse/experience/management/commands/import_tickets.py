"""`servicepulse import-tickets FILE.csv` — service-desk tickets (opened, resolved, service, priority); times
without a UTC offset are read in the organisation's time zone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.experience.services import TicketFileError, tickets_import_file


class Command(BaseCommand):
    help = (
        "Import service-desk tickets from CSV with the columns opened, resolved, service, priority (and "
        "optionally reference). Times are ISO 8601 or day-first (16/11/2026 12:30); a time without a UTC "
        "offset, as service-desk exports give them, is read in the organisation's time zone "
        "(SERVICEPULSE_TIME_ZONE, default Europe/London). Bad rows (a time that is not one, is out of range or more "
        "than a day in the future; an unknown service or priority) are reported with their line numbers and "
        "kept out; re-importing the same file changes nothing. Exits 1 when any row was rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            type=Path,
            help="CSV file with the header row opened,resolved,service,priority[,reference]: resolved empty "
            "while the ticket is open, service a catalogue service's id, name or alias, priority P1-P4",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = tickets_import_file(path=options["file"])
        except TicketFileError as exc:
            raise CommandError(str(exc)) from exc
        for line, reason in report.errors:
            self.stderr.write(f"line {line}: {reason}")
        if report.local_times:
            self.stderr.write(
                f"note: {report.local_times} row(s) gave times without a UTC offset, read as "
                f"{settings.TIME_ZONE} time (SERVICEPULSE_TIME_ZONE)"
            )
        self.stdout.write(json.dumps(report.as_dict()))
        if report.rejected:
            raise SystemExit(1)
