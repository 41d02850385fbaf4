"""`servicepulse erase-author AUTHOR [--source NAME] [--yes]` — erase one person's posts on request."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.mentions.management.commands.export_author import no_posts_hint
from servicepulse.mentions.selectors import author_erasure_reach
from servicepulse.mentions.services import mentions_erase_author
from servicepulse.sources.models import Source


class Command(BaseCommand):
    help = (
        "Erase one person's posts (by author name, handle or platform id) with their analysis and inbox cases, "
        "their quarantined input, their name and id in other people's raw payloads, and their place in "
        "incidents (counts, explanations, timeline comments "
        "naming or quoting them), and their blog comments, whether or not they became posts (held and spam "
        'ones too: deleted, or "[erased]" where others\' replies keep them in a thread). Cannot be undone. '
        "Names are matched exactly: when nothing is stored under AUTHOR, it asks nothing, erases nothing, names "
        "the stored spellings that differ only in case or a leading @, and exits 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "author", help="the author's name, handle or platform id, as stored on their posts"
        )
        parser.add_argument("--source", metavar="NAME", help="only this source's posts")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        author: str = options["author"]
        source = None
        if options["source"]:
            source = Source.objects.filter(name=options["source"]).first()
            if source is None:
                raise CommandError(f"no source named {options['source']!r}")
        try:
            reach = author_erasure_reach(author=author, source=source)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not reach:
            # Names are matched exactly: say so, with the close spellings that are stored, before asking anything.
            raise CommandError(f"nothing erased: {no_posts_hint(author).strip()}")
        if not options["yes"]:
            what = ", ".join(f"{count} {kind}" for kind, count in reach.items())
            try:
                answer = input(f"Erase {what} by {author!r} and everything linked to them? [y/N] ")
            except EOFError:  # no terminal to ask (stdin is /dev/null or a finished pipe)
                raise CommandError("nothing erased: no answer to confirm with; pass --yes to erase") from None
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("nothing erased")
        try:
            erasure = mentions_erase_author(author=author, source=source)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"erased {erasure.posts} posts by {author}")
        if not erasure.posts:
            sys.stderr.write(no_posts_hint(author))
        for what, count in erasure.elsewhere.items():
            self.stdout.write(f"  {what}: {count}")
