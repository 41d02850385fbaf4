"""`servicepulse draft-you-said-we-did [--until DATE] [--days 7] [--save]`: print the week's draft post
(Markdown); with --save, also create it as a blog draft for the leader to edit and publish."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from servicepulse.core.arguments import positive_int
from servicepulse.engage.services import you_said_we_did_draft
from servicepulse.engage.you_said import draft_markdown, draft_title, week_digest


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from exc


class Command(BaseCommand):
    help = "Draft the weekly 'You said, we did' blog post from complaint themes and resolved incidents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--until", type=_day, help="End of the week (YYYY-MM-DD, local midnight; default: now)"
        )
        parser.add_argument(
            "--days", type=positive_int, default=7, help="Length of the period in days (default 7)"
        )
        parser.add_argument("--save", action="store_true", help="Also create it as a blog draft")

    def handle(self, *args: Any, **options: Any) -> None:
        until = None
        if options["until"]:
            until = timezone.make_aware(datetime.combine(options["until"], time.min))
        digest = week_digest(until=until, days=options["days"])
        self.stdout.write(f"# {draft_title(digest)}\n\n{draft_markdown(digest)}")
        if options["save"]:
            post, created = you_said_we_did_draft(until=until, days=options["days"])
            state = "created" if created else "already there"
            sys.stderr.write(f"blog draft {state}: id {post.pk}, /blog/ admin to edit and publish\n")
