"""`servicepulse import-wordpress FILE.xml`: bring a WordPress export (WXR) over."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.blog.wordpress import WXRError, wxr_import


class Command(BaseCommand):
    help = (
        "Import a WordPress export (WXR): authors, posts, comments with threading, pingbacks and trackbacks. "
        "Re-running adds nothing twice; broken items are reported on stderr and skipped. Prints JSON counts; "
        "exits 1 when something was skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xml file from WordPress → Tools → Export")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = wxr_import(path=options["file"])
        except OSError as exc:  # not found, a directory, unreadable: one line, not "[Errno 2] ..."
            raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from None
        except WXRError as exc:
            raise CommandError(str(exc)) from exc
        for reason in report.skipped:
            self.stderr.write(f"skipped {reason}")
        self.stdout.write(json.dumps(report.as_dict()))
        if report.skipped:
            raise SystemExit(1)
