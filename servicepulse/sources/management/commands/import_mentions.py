"""`servicepulse import FILE [--source NAME]` — load mentions from JSON Lines or CSV."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from servicepulse.core.progress import progress_bar
from servicepulse.sources.connectors.file_import.importer import check_importable, import_file
from servicepulse.sources.services import SourceConfigError


class Command(BaseCommand):
    help = (
        "Import mentions from a JSON Lines (or .csv) file: fields id, text, created_at (ISO 8601 with "
        "offset), "
        "optional author, url, in_reply_to, lang. Bad lines go to quarantine (the first are named on stderr "
        "with their reason); re-running adds no duplicates. A file in which no line is a mention (not an "
        "import at all) is refused in one line before anything is written. "
        'Prints {"imported": N, "duplicates": N, "rejected": N}; exits 1 when any line was rejected, '
        "2 when the database failed part-way (run it again to finish)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a JSON Lines file (one mention per line) or a .csv file")
        parser.add_argument("--source", help="source name (default: the file name without extension)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if path.is_dir():  # "no such file" would send the user looking for something that is there
            raise CommandError(f"{path} is a directory, not a file")
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            check_importable(path)  # before the progress bar, so a wrong file is one line and nothing else
        except SourceConfigError as exc:
            raise CommandError(str(exc)) from exc
        with progress_bar(total=path.stat().st_size, desc=f"importing {path.name}", unit="B") as bar:

            def advance(done: int) -> None:
                bar.update(done - bar.n)

            try:
                report = import_file(path=path, source_name=options["source"], on_progress=advance)
            except SourceConfigError as exc:
                raise CommandError(str(exc)) from exc
            except DatabaseError as exc:
                # Batches commit whole, so what is stored is exact; the same command finishes the job.
                detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
                self.stderr.write(
                    f"error: the database failed during the import ({exc.__class__.__name__}: {detail}). "
                    "Every batch before the failure is stored; run the same command again to finish."
                )
                raise SystemExit(2) from exc
        for position, reason in report.rejections:
            self.stderr.write(f"{path.name} {position}: {reason}")
        if report.rejected:
            more = report.rejected - len(report.rejections)
            also = f"; {more} more not shown here" if more > 0 else ""
            name = options["source"] or path.stem
            self.stderr.write(
                f"{report.rejected} line(s) rejected{also}. Each is kept in quarantine with its reason: "
                f"`servicepulse sources quarantine {shlex.quote(name)}`, or the source's page under Sources."
            )
        self.stdout.write(json.dumps(report.as_dict()))
        if report.rejected:
            raise SystemExit(1)
