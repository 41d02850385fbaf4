"""`servicepulse report --week YYYY-Www [--pdf FILE] [--email ADDR ...] [--resend]` — the weekly experience report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.utils import timezone

from servicepulse.core.times import local_time_text
from servicepulse.experience import rendering
from servicepulse.experience.periods import IsoWeek, WeekError
from servicepulse.experience.selectors import report_build
from servicepulse.experience.services import report_email_send


def _is_address(value: str) -> bool:
    try:
        validate_email(value.strip())
    except ValidationError:
        return False
    return True


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
        parser.add_argument(
            "--resend",
            action="store_true",
            help="send it to an --email address that has already had this week's report",
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
            bad = [a for a in options["email"] if not _is_address(a)]
            if bad:  # before anything is sent: a typo is fixed and the command run again
                raise CommandError(f"not an e-mail address: {', '.join(repr(a) for a in bad)}; nothing sent")
            try:
                result = report_email_send(
                    week=week.label, recipients=options["email"], resend=options["resend"]
                )
            except OSError as exc:
                raise CommandError(f"could not send the e-mail: {exc}") from exc
            if result.sent:
                self.stderr.write(f"sent to {', '.join(result.sent)}")
            for address, when in result.already_sent:
                self.stderr.write(
                    f"not sent to {address}: it already had week {week.label}'s report "
                    f"({local_time_text(when)}); add --resend to send it again"
                )
            if result.refused:
                refused = "; ".join(f"{address} ({reason})" for address, reason in result.refused)
                raise CommandError(f"the mail server refused {refused}")
        if not options["pdf"] and not options["email"]:
            self.stdout.write(rendering.report_text(report))
