"""`servicepulse detect IN.csv --output OUT.csv` (`-`: stdout): run the incident detector over a series of counts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.incidents.series import SeriesError, detect_csv

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


class Command(BaseCommand):
    needs_migrated_database = False  # files in, a file out
    help = (
        "Run the incident detector over a regular timestamp,value series of counts and write "
        "timestamp,alert,score for every row (alert 1 where an incident would be raised)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", type=Path, help="CSV with columns timestamp,value")
        parser.add_argument("--output", "-o", required=True, help="CSV to write ('-' for stdout)")
        parser.add_argument(
            "--sensitivity", type=float, default=1.0, help="divides the thresholds (default 1: the product's)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sensitivity = float(options["sensitivity"])
        if not (math.isfinite(sensitivity) and sensitivity > 0):
            raise CommandError(f"--sensitivity must be a finite positive number (got {sensitivity:g})")
        source = Path(options["input"])
        output: Path | SupportsWrite[str] = (
            self.stdout if options["output"] == "-" else Path(options["output"])
        )
        where = output if isinstance(output, Path) else "stdout"
        if isinstance(output, Path) and output.exists() and source.exists() and output.samefile(source):
            # The output has no value column: writing over the input would lose the series.
            raise CommandError(f"--output {output} is the input file; write the alerts to another file")
        try:
            alerts = detect_csv(source, output, sensitivity=sensitivity)
        except SeriesError as exc:
            raise CommandError(f"{options['input']}: {exc}") from None
        except BrokenPipeError:  # the reader of stdout stopped (`| head`): the CLI ends quietly with 141
            raise
        except OSError as exc:  # reading is reported as a SeriesError: this is the output
            raise CommandError(f"cannot write {where}: {exc.strerror}") from None
        self.stderr.write(f"{alerts} alert(s) written to {where}")
