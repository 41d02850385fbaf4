"""`servicepulse stats [--json]` — how much has been stored, per source."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from servicepulse.mentions.selectors import mention_counts


class Command(BaseCommand):
    help = "Counts of mentions, quarantined input and mentions per source."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="one JSON object on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = mention_counts()
        if options["json"]:
            self.stdout.write(json.dumps(counts))
            return
        self.stdout.write(f"mentions:    {counts['mentions']}")
        self.stdout.write(f"quarantined: {counts['quarantined']}")
        for name, n in counts["sources"].items():  # type: ignore[attr-defined]
            self.stdout.write(f"  {name}: {n}")
