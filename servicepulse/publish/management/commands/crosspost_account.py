"""`servicepulse crosspost-account NAME [--mode review|auto] [--subreddit SR] [--disable]`: enable (or change, or
disable) cross-posting of blog posts on a connected account (a source's name), or `linkedin` for the
organisation page configured in the environment. With NAME alone it enables the account in review mode.
Prints one JSON line with the result."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.config.env import get_env
from servicepulse.publish.crosspost import target_set
from servicepulse.publish.models import CrossPostTarget
from servicepulse.sources.models import Source

# What LinkedIn posts with (see servicepulse.publish.networks.linkedin): without both, nothing can be sent.
LINKEDIN_SETTINGS = ("SERVICEPULSE_LINKEDIN_TOKEN", "SERVICEPULSE_LINKEDIN_ORGANIZATION")


class Command(BaseCommand):
    help = "Enable, change or disable cross-posting of blog posts on a connected account (or linkedin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the source's name, or 'linkedin'")
        parser.add_argument(
            "--mode",
            choices=[m.value for m in CrossPostTarget.Mode],
            default="review",
            help="review (the default): a published post's copy waits as a draft, sent from the post's "
            "cross-posting page; auto: the copy is sent as soon as the post is published",
        )
        parser.add_argument(
            "--subreddit",
            default="",
            help="Reddit: the subreddit link posts go to (name or r/name; needed to enable a Reddit account)",
        )
        parser.add_argument(
            "--disable",
            action="store_true",
            help="turn cross-posting off for this account: posts published from now on are not copied to it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        source = None
        network = "linkedin"
        if name.lower() != "linkedin":
            source = Source.objects.filter(name=name).first()
            if source is None:
                raise CommandError(f"no source named {name!r}")
            network = source.kind
        elif not options["disable"]:
            # Like a Reddit account without its subreddit: refused now rather than failing at every post.
            missing = [setting for setting in LINKEDIN_SETTINGS if not get_env(setting, "")]
            if missing:
                raise CommandError(f"LinkedIn is not configured: set {' and '.join(missing)}")
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
