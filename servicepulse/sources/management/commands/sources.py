"""`servicepulse sources kinds|add|set|list|sync|quarantine|remove|enable|disable|options`: manage the channels."""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.core.arguments import non_negative_int
from servicepulse.mentions.selectors import quarantine_list
from servicepulse.mentions.services import quarantine_discard
from servicepulse.sources.registry import ConnectorError
from servicepulse.sources.selectors import source_get, source_kinds, source_list_with_health
from servicepulse.sources.services import (
    SourceConfigError,
    source_create,
    source_removal_summary,
    source_remove,
    source_sync,
    source_update,
)


def _parse_options(pairs: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--option takes key=value, got {pair!r}")
        options[key.strip()] = value
    return options


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _when(value: datetime | None) -> str:
    return _iso(value) or "-"


class Command(BaseCommand):
    help = "Add, list, sync and remove sources (the channels servicepulse listens to)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        sub.add_parser("kinds", help="list the connector kinds: kind<TAB>description")

        add = sub.add_parser("add", help="add a source: sources add KIND --name NAME --option key=value ...")
        add.add_argument("kind", help="connector kind (`servicepulse sources kinds` lists them)")
        add.add_argument("--name", required=True, help="a name of your choosing, unique among the sources")
        add.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="repeat for each option (`servicepulse sources options KIND` lists them)",
        )
        add.add_argument("--disabled", action="store_true", help="add it switched off")
        add.add_argument(
            "--audience",
            choices=["users", "peers"],
            default="users",
            help="users: analysed and scored (default); peers: feeds the weekly learning digest only",
        )
        add.add_argument("--retention-days", type=int, default=None, help="delete its posts after N days")

        change = sub.add_parser(
            "set",
            help="change a source's options: sources set NAME --option key=value ... (key= unsets an option; "
            "secrets not given keep their stored value)",
        )
        change.add_argument("name", help="the source's name")
        change.add_argument(
            "--option", action="append", default=[], metavar="KEY=VALUE", help="repeat for each option"
        )

        listing = sub.add_parser("list", help="every source with its health")
        listing.add_argument("--json", action="store_true", help="one JSON array on stdout")

        sync = sub.add_parser("sync", help="pull one source now and print the counts")
        sync.add_argument("name", help="the source's name")

        quarantine = sub.add_parser(
            "quarantine", help="what a source could not store as posts (newest first), with the reason"
        )
        quarantine.add_argument("name", help="the source's name")
        quarantine.add_argument(
            "--limit", type=non_negative_int, default=50, metavar="N", help="show at most N rows (default 50)"
        )
        quarantine.add_argument("--json", action="store_true", help="one JSON object per line, raw included")
        quarantine.add_argument(
            "--discard", action="store_true", help="delete this source's quarantined rows after reading them"
        )

        remove = sub.add_parser(
            "remove", help="remove a source and everything it brought in (disable keeps its posts)"
        )
        remove.add_argument("name", help="the source's name")
        remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")

        for action in ("enable", "disable"):
            toggle = sub.add_parser(action, help=f"{action} a source")
            toggle.add_argument("name", help="the source's name")

        options = sub.add_parser("options", help="the options a kind takes")
        options.add_argument("kind", help="connector kind (`servicepulse sources kinds` lists them)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        getattr(self, f"do_{action}")(options)

    def do_kinds(self, options: dict[str, Any]) -> None:
        for info in source_kinds():
            self.stdout.write(f"{info.kind}\t{info.description}")

    def do_options(self, options: dict[str, Any]) -> None:
        for info in source_kinds():
            if info.kind == options["kind"]:
                for spec in info.options:
                    flags = ", ".join(
                        flag for flag, on in (("required", spec.required), ("secret", spec.secret)) if on
                    )
                    self.stdout.write(f"{spec.name}\t{flags or 'optional'}\t{spec.help}")
                return
        raise CommandError(f"unknown source kind {options['kind']!r}; see `servicepulse sources kinds`")

    def do_add(self, options: dict[str, Any]) -> None:
        values = _parse_options(options["option"])
        try:
            source = source_create(
                kind=options["kind"],
                name=options["name"],
                options=values,
                audience=options["audience"],
                retention_days=options["retention_days"],
            )
        except (SourceConfigError, ConnectorError) as exc:
            raise CommandError(str(exc)) from exc
        if options["disabled"]:
            source_update(source=source, enabled=False)
        secret_names = sorted(source.secrets) if source.secrets_encrypted else []
        note = f" (secrets encrypted: {', '.join(secret_names)})" if secret_names else ""
        self.stdout.write(f"added {source.kind} source {source.name!r}{note}")

    def do_set(self, options: dict[str, Any]) -> None:
        source = self._source(options["name"])
        given = _parse_options(options["option"])
        if not given:
            raise CommandError(
                "nothing to change: give --option key=value (see `servicepulse sources options`)"
            )
        try:
            # "key=" unsets: a plain option goes back to its default, a stored secret is forgotten.
            unset = [key for key, value in given.items() if value == ""]
            source_update(source=source, options={**source.options, **given}, unset=unset)
        except (SourceConfigError, ConnectorError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"updated {source.kind} source {source.name!r}: {', '.join(sorted(given))}")

    def do_quarantine(self, options: dict[str, Any]) -> None:
        source = self._source(options["name"])
        if options["discard"]:
            discarded = quarantine_discard(source=source)
            self.stdout.write(f"discarded {discarded} quarantined row(s) of {source.name!r}")
            return
        rows = quarantine_list(source_id=source.pk)
        total = rows.count()
        for row in rows[: options["limit"]]:
            if options["json"]:
                self.stdout.write(
                    json.dumps(
                        {
                            "position": row.position,
                            "reason": row.reason,
                            "received_at": _iso(row.received_at),
                            "raw": row.raw,
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                raw = " ".join(row.raw.split())
                raw = raw if len(raw) <= 120 else raw[:119] + "…"
                self.stdout.write(f"{row.position or '-'}\t{row.reason}\t{raw}")
        shown = min(total, options["limit"])
        if not options["json"]:
            self.stderr.write(
                f"{total} quarantined row(s) for {source.name!r}"
                + (f", {shown} shown (--limit)" if shown < total else "")
            )

    def do_list(self, options: dict[str, Any]) -> None:
        rows = source_list_with_health()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    [
                        {
                            "name": r.name,
                            "kind": r.kind,
                            "enabled": r.enabled,
                            "status": r.status,
                            "last_success": _iso(r.last_success_at),
                            "last_error": r.last_error,
                            "last_error_at": _iso(r.last_error_at),
                            "next_try": _iso(r.next_try_at),
                            "mentions": r.mentions,
                            "quarantined": r.quarantined,
                        }
                        for r in rows
                    ]
                )
            )
            return
        header = ["name", "kind", "enabled", "status", "last success", "last error", "next try", "mentions"]
        self.stdout.write("\t".join(header))
        if not rows:  # the header alone (for scripts), and on stderr the way on for a person
            self.stderr.write(
                "no sources yet: `servicepulse sources add KIND --name NAME --option key=value` adds one "
                "(`servicepulse sources kinds` lists the kinds), `servicepulse import FILE` imports a file"
            )
        for r in rows:
            error = f"{_when(r.last_error_at)} {r.last_error.splitlines()[0][:200]}" if r.last_error else "-"
            self.stdout.write(
                "\t".join(
                    [
                        r.name,
                        r.kind,
                        "yes" if r.enabled else "no",
                        r.status,
                        _when(r.last_success_at),
                        error,
                        _when(r.next_try_at),
                        str(r.mentions),
                    ]
                )
            )

    def do_sync(self, options: dict[str, Any]) -> None:
        source = self._source(options["name"])
        try:
            result = source_sync(source=source)
        except ConnectorError as exc:
            partial = exc.result
            if partial is not None:
                self.stdout.write(self._counts(partial))
            raise CommandError(f"{source.name}: {exc}") from exc
        self.stdout.write(self._counts(result))

    def do_remove(self, options: dict[str, Any]) -> None:
        source = self._source(options["name"])
        if not options["yes"]:
            summary = ", ".join(
                f"{count} {label}" for label, count in source_removal_summary(source=source).items()
            )
            try:
                answer = input(
                    f"Remove source {source.name!r} and delete with it: {summary}? "
                    f"(`servicepulse sources disable {shlex.quote(source.name)}` keeps them) [y/N] "
                )
            except EOFError:  # no terminal to ask (stdin is /dev/null or a finished pipe)
                raise CommandError(
                    "nothing removed: no answer to confirm with; pass --yes to remove"
                ) from None
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("nothing removed")
        removed = source_remove(name=options["name"])
        self.stdout.write(f"removed source {options['name']!r} and its {removed} mention(s)")

    def do_enable(self, options: dict[str, Any]) -> None:
        try:
            source_update(source=self._source(options["name"]), enabled=True)
        except SourceConfigError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"enabled {options['name']!r}")

    def do_disable(self, options: dict[str, Any]) -> None:
        source_update(source=self._source(options["name"]), enabled=False)
        self.stdout.write(f"disabled {options['name']!r}")

    def _source(self, name: str) -> Any:
        source = source_get(name=name)
        if source is None:
            raise CommandError(f"no source named {name!r}; see `servicepulse sources list`")
        return source

    @staticmethod
    def _counts(result: Any) -> str:
        counts = {
            "created": result.created,
            "duplicates": result.duplicates,
            "quarantined": result.quarantined,
        }
        if result.skipped:  # posts with nothing to read: said, not silently dropped
            counts["skipped"] = result.skipped
        return json.dumps(counts)
