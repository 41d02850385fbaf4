"""`servicepulse load-demo [--seed N] [--reset]` — load the demo university (again: nothing is stored twice)."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.demo.services import DemoError, demo_load


class Command(BaseCommand):
    help = (
        "Load the demo university: users, catalogue, sources, six weeks of posts, tickets; then analyse them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=None, help="generator seed (default: the built-in one)"
        )
        parser.add_argument(
            "--reset", action="store_true", help="remove the loaded demo first and load afresh"
        )
        parser.add_argument("--no-analysis", action="store_true", help="leave analysis to the worker")
        parser.add_argument("--json", action="store_true", help="print the summary as one JSON line")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            summary = demo_load(
                seed=options["seed"], reset=options["reset"], analyse=not options["no_analysis"]
            )
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        seconds = time.monotonic() - started
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "mentions": summary.mentions,
                        "duplicates": summary.duplicates,
                        "sources": summary.sources,
                        "tickets": summary.tickets,
                        "seed": summary.seed,
                        "end": summary.end.isoformat() if summary.end else None,
                        "analysed": summary.analysed,
                        "detection": summary.detection,
                        "seconds": round(seconds, 1),
                    }
                )
            )
            return
        self.stdout.write(
            f"demo (seed {summary.seed}, ending {summary.end:%Y-%m-%d %H:%M} UTC): {summary.mentions} new posts, "
            f"{summary.duplicates} already there, {summary.sources} sources, {summary.tickets} new tickets, "
            f"in {seconds:.0f}s"
        )
        if summary.analysed is not None:
            self.stdout.write(f"  analysed {summary.analysed} posts")
        if summary.detection:
            self.stdout.write(f"  detection over the six weeks: {summary.detection}")
        for note in summary.notes:
            self.stdout.write(f"  note: {note}")
        for username, password, role in summary.logins:
            self.stdout.write(f"  sign in as {username} / {password}  ({role})")
