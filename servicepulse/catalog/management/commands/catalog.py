"""`servicepulse catalog load FILE.yaml` / `servicepulse catalog export [--output FILE.yaml]`: the service
catalogue to and from a catalogue file (the format of bench/airline_catalog.yaml, described in the README)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.catalog.document import CatalogError, catalog_read_file
from servicepulse.catalog.selectors import catalog_document, service_list
from servicepulse.catalog.services import catalog_load


class _CatalogDumper(yaml.SafeDumper):
    """PyYAML's dumper, except that a string holding a Unicode line break (NEL, LINE SEPARATOR, PARAGRAPH
    SEPARATOR) is written double-quoted, where they are escaped (\\N, \\L, \\P). Left to itself, with
    allow_unicode, it writes them raw in a single-quoted scalar, and reading that back folds a NEL into a space:
    a description pasted from mis-decoded Windows text ("…" is byte 0x85) did not survive export and load."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if any(c in value for c in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_CatalogDumper.add_representer(str, _represent_str)


class Command(BaseCommand):
    help = (
        "The service catalogue: `load FILE.yaml` creates the services of a catalogue file and updates those "
        "already there (it never removes one); `export` writes the catalogue as such a file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = sub.add_parser(
            "load", help="create or update services from a catalogue YAML file (services not in it are kept)"
        )
        load.add_argument("file", type=Path, help="catalogue YAML file (format in the README)")
        export = sub.add_parser("export", help="write the catalogue as a YAML catalogue file")
        export.add_argument("--output", "-o", help="file to write ('-' or none: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            self._load(Path(options["file"]))
        else:
            self._export(options["output"])

    def _load(self, path: Path) -> None:
        try:
            records = catalog_read_file(path)
        except CatalogError as exc:
            raise CommandError(str(exc)) from None
        in_file = {r["id"] for r in records}
        have = set(service_list().values_list("id", flat=True))
        catalog_load(data={"services": records})
        created = sum(1 for r in records if r["id"] not in have)
        kept = sorted(have - in_file)
        self.stdout.write(
            json.dumps({"created": created, "updated": len(records) - created, "kept": len(kept)})
        )
        if kept and created:
            # An id changed in the file makes a new service beside the old one, which keeps its history: said,
            # so that a rename is not two services without anyone noticing.
            shown = ", ".join(kept[:10]) + (f" and {len(kept) - 10} more" if len(kept) > 10 else "")
            sys.stderr.write(
                f"kept {len(kept)} services not in the file: {shown} (a file adds and updates services, "
                "never removes one; if an id was renamed, the old service is still there: remove it on its "
                "page in the Catalogue)\n"
            )

    def _export(self, output: str | None) -> None:
        document = catalog_document()
        text = yaml.dump(document, Dumper=_CatalogDumper, sort_keys=False, allow_unicode=True, width=120)
        if output in (None, "-"):
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from None
        sys.stderr.write(f"exported {len(document['services'])} services to {output}\n")
