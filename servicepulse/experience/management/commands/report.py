"""`servicepulse report --week YYYY-Www [--pdf FILE] [--email ADDR ...]` — the weekly experience report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from servicepulse.experience import rendering
from servicepulse.experience.periods import IsoWeek, WeekError
from servicepulse.experience.selectors import report_build
from servicepulse.experience.services import report_email_send


def _week(value: str) -> IsoWeek:
    """--week parsed by the parser, so a mistyped week is a usage error (exit 2) before the database."""
    try:
        return IsoWeek.parse(value)
    except WeekError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


class Command(BaseCommand):
    help = "Build the weekly experience report: print it as text, write the PDF, and/or e-mail it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--week", type=_week, help="ISO week, e.g. 2026-W47 (default: last complete week)"
        )
        parser.add_argument("--pdf", type=Path, help="write the PDF here")
        parser.add_argument(
            "--email", action="append", default=[], help="send it to this address (repeatable)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        week: IsoWeek = options["week"] or IsoWeek.last_complete()
        if (
            week.start > timezone.now()
        ):  # as the report page answers: an empty report would read as a calm week
            raise CommandError(f"week {week.label} has not started yet")
        report = report_build(week=week)
        if options["pdf"]:
            try:
                options["pdf"].write_bytes(rendering.report_pdf(report))
            except OSError as exc:
                raise CommandError(f"cannot write {options['pdf']}: {exc.strerror}") from exc
            self.stderr.write(f"wrote {options['pdf']}")
        if options["email"]:
            try:
                report_email_send(week=week.label, recipients=options["email"])
            except OSError as exc:
                raise CommandError(f"could not send the e-mail: {exc}") from exc
            self.stderr.write(f"sent to {', '.join(options['email'])}")
        if not options["pdf"] and not options["email"]:
            self.stdout.write(rendering.report_text(report))
