"""`servicepulse export-author AUTHOR [--source NAME] [--output FILE]` — everything held about one person."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from servicepulse.core.output import complete_file
from servicepulse.mentions.selectors import author_export, author_spellings
from servicepulse.sources.models import Source

STDOUT = "-"


class Command(BaseCommand):
    help = (
        "Write everything servicepulse holds about one person (by author name, handle or platform id, as stored "
        "on their posts) as one JSON document, for a subject access request: their posts as received (the "
        "platform's raw payload too), what was concluded about each (complaint, sentiment, spam, services, "
        "corrections), their inbox cases with notes and the replies sent to them, the incidents their posts "
        "were attached to, their quarantined input, their blog comments and their reply opt-outs. The "
        "file holds personal data: it is readable by its owner only. `erase-author` erases the same person."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "author", help="the author's name, handle or platform id, as stored on their posts"
        )
        parser.add_argument("--source", metavar="NAME", help="only this source's posts")
        parser.add_argument(
            "--output",
            "-o",
            metavar="FILE",
            help="file to write ('-' or none: stdout); it appears only once the export is complete",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = None
        if options["source"]:
            source = Source.objects.filter(name=options["source"]).first()
            if source is None:
                raise CommandError(f"no source named {options['source']!r}")
        try:
            held = author_export(author=options["author"], source=source)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        text = json.dumps(held, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2) + "\n"
        summary = f"{len(held['posts'])} posts and {len(held['quarantined'])} quarantined inputs"
        output = options["output"]
        if output in (None, STDOUT):
            self.stdout.write(text, ending="")
        else:
            path = Path(output)
            with complete_file(
                path, mode=0o600
            ) as handle:  # personal data: not for the machine's other users
                handle.write(text)
            sys.stderr.write(f"exported {summary} by {options['author']} to {output}\n")
        if not held["posts"]:
            sys.stderr.write(no_posts_hint(options["author"]))


def no_posts_hint(author: str) -> str:
    """The line said when no post is stored under `author`: names are matched exactly, so the close
    spellings that are stored, if any."""
    close = author_spellings(author=author)
    if close:
        return f"no posts by {author!r}; stored with another spelling: {', '.join(repr(c) for c in close)}\n"
    return f"no posts by {author!r} (names and ids are matched exactly)\n"
