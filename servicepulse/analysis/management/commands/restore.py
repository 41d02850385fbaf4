"""`servicepulse restore FILE [--allow-missing-services]` — load an export (the service catalogue, mentions,
their analysis and corrections) into this database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.analysis.exporting import RestoreRefused, restore_file
from servicepulse.core.progress import progress_bar

SHOW_PROBLEMS = 20  # lines of quarantined input named on stderr; the rest are counted


class Command(BaseCommand):
    help = (
        "Restore a `servicepulse export` file: its service catalogue (services this database lacks are added; "
        "those it has are left as they are), sources, mentions, their analysis and corrections. A line that is "
        "not a mention goes to quarantine with its reason; a malformed analysis or correction goes to "
        "quarantine while its mention is kept. Re-running adds nothing. An export without a catalogue line "
        "that names services this database lacks is refused (load the catalogue with `servicepulse catalog "
        "load FILE.yaml`) unless --allow-missing-services. Prints "
        '{"restored": N, "duplicates": N, "rejected": N, ...}; exits 1 when anything went to quarantine.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a file written by `servicepulse export`")
        parser.add_argument(
            "--allow-missing-services",
            action="store_true",
            help="restore even when the export names services the catalogue lacks: their tags are left out and "
            "corrections naming them go to quarantine (a warning names them)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if path.is_dir():  # "no such file" would send the user looking for something that is there
            raise CommandError(f"{path} is a directory, not a file")
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            with path.open("rb") as handle:
                lines = sum(1 for _ in handle)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            with progress_bar(total=lines, desc=f"restoring {path.name}", unit="line") as bar:
                report = restore_file(
                    path=path,
                    allow_missing_services=options["allow_missing_services"],
                    on_progress=lambda n: bar.update(n - bar.n),
                )
        except RestoreRefused as exc:
            raise CommandError(str(exc)) from None
        if report.missing_services:
            self.stderr.write(
                f"warning: the catalogue has no service {', '.join(sorted(report.missing_services))}: "
                f"{report.missing_service_refs} tag(s) and correction(s) naming them were not stored "
                "(the corrections are in quarantine)"
            )
        for problem in report.problems[:SHOW_PROBLEMS]:
            self.stderr.write(f"quarantined {problem}")
        if len(report.problems) > SHOW_PROBLEMS:
            self.stderr.write(
                f"... and {len(report.problems) - SHOW_PROBLEMS} more, each kept in quarantine with its line and reason"
            )
        self.stdout.write(json.dumps(report.as_dict()))
        if report.rejected or report.parts_quarantined:
            raise SystemExit(1)
