"""`servicepulse demo-engage`: load the demo's inbox history, status page history and subscribers (once)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from servicepulse.engage.demo import DEFAULT_SEED, demo_engage_load


class Command(BaseCommand):
    help = "Load the engage/status side of the demo (after the demo posts and detection)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"generator seed (default {DEFAULT_SEED})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = demo_engage_load(seed=options["seed"])
        self.stdout.write(json.dumps(summary.__dict__))
