"""`servicepulse crosspost-account NAME [--mode review|auto] [--subreddit SR] [--disable]`: enable (or change, or
disable) cross-posting of blog posts on a connected account (a source's name), or `linkedin` for the
organisation page configured in the environment. With NAME alone it enables the account in review mode.
Prints one JSON line with the result."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.publish.crosspost import target_set
from servicepulse.publish.models import CrossPostTarget
from servicepulse.sources.models import Source


class Command(BaseCommand):
    help = "Enable, change or disable cross-posting of blog posts on a connected account (or linkedin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the source's name, or 'linkedin'")
        parser.add_argument("--mode", choices=[m.value for m in CrossPostTarget.Mode], default="review")
        parser.add_argument(
            "--subreddit",
            default="",
            help="Reddit: the subreddit link posts go to (name or r/name; needed to enable a Reddit account)",
        )
        parser.add_argument("--disable", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        source = None
        network = "linkedin"
        if name.lower() != "linkedin":
            source = Source.objects.filter(name=name).first()
            if source is None:
                raise CommandError(f"no source named {name!r}")
            network = source.kind
        extra = {"subreddit": options["subreddit"]} if options["subreddit"] else None
        try:
            target = target_set(
                network=network,
                source=source,
                enabled=not options["disable"],
                mode=options["mode"],
                options=extra,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            json.dumps(
                {"network": target.network, "account": name, "enabled": target.enabled, "mode": target.mode}
            )
        )
