"""`servicepulse detect IN.csv --output OUT.csv`: run the incident detector over a series of counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.incidents.series import SeriesError, detect_csv


class Command(BaseCommand):
    help = (
        "Run the incident detector over a regular timestamp,value series of counts and write "
        "timestamp,alert,score for every row (alert 1 where an incident would be raised)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", type=Path, help="CSV with columns timestamp,value")
        parser.add_argument("--output", "-o", type=Path, required=True, help="CSV to write")
        parser.add_argument(
            "--sensitivity", type=float, default=1.0, help="divides the thresholds (default 1: the product's)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sensitivity"] <= 0:
            raise CommandError("--sensitivity must be positive")
        try:
            alerts = detect_csv(
                Path(options["input"]), Path(options["output"]), sensitivity=float(options["sensitivity"])
            )
        except SeriesError as exc:
            raise CommandError(f"{options['input']}: {exc}") from None
        self.stderr.write(f"{alerts} alert(s) written to {options['output']}")
