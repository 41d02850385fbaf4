"""`servicepulse digest [--week YYYY-MM-DD] [--email ADDR ...]` — build a week's learning digest now."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from servicepulse.publish.services import digest_build, digest_email_send, monday_of


def _day(value: str) -> date:
    """--week parsed by the parser, so a mistyped date is a usage error (exit 2) before the database."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Group what the peer sources posted in a week into topics (default: last week) and print them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--week", type=_day, help="any day of the week (YYYY-MM-DD); default: last week")
        # nargs="+": a bare --email (no address) is a usage error, not a digest silently sent to no one.
        parser.add_argument(
            "--email", nargs="+", default=[], metavar="ADDR", help="also e-mail it to these addresses"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if any(not address.strip() for address in options["email"]):
            # `--email "$TO"` with TO unset: refused before anything is built, as a bare --email is.
            raise CommandError("--email: an empty address (give the addresses to send the digest to)")
        day: date = options["week"] or monday_of(timezone.localdate()) - timedelta(days=7)
        digest = digest_build(week_start=day)
        self.stdout.write(
            f"week of {digest.week_start}: {digest.post_count} posts, {len(digest.topics)} topics"
        )
        for number, topic in enumerate(digest.topics, start=1):
            touches = f"  [touches: {', '.join(topic['service_ids'])}]" if topic["service_ids"] else ""
            self.stdout.write(f"{number}. {topic['name']} ({topic['size']} posts){touches}")
        if options["email"]:
            digest_email_send(digest=digest, recipients=options["email"])
            self.stderr.write(f"sent to {', '.join(options['email'])}")
