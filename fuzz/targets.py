"""Fuzz targets: one function per parser, taking raw bytes.

A target returns normally for input it accepts or rejects with its documented error; anything else (an
unexpected exception, a failed safety assertion such as a <script> surviving sanitisation) is a bug.
`fuzz/run.py` drives them with atheris; `tests/fuzz/` replays `fuzz/crashes/` and runs hypothesis properties.
Add a target by adding a function to TARGETS.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import django

django.setup()

from servicepulse.catalog.services import CatalogError, catalog_parse  # noqa: E402
from servicepulse.sources.connectors.file_import.parse import ParseError, parse_json_line  # noqa: E402


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def import_line(data: bytes) -> None:
    try:
        mention = parse_json_line(_text(data))
    except ParseError:
        return
    assert mention.text.strip()
    assert mention.created_at.tzinfo is not None


def catalog_yaml(data: bytes) -> None:
    import yaml

    try:
        document = yaml.safe_load(_text(data))
    except yaml.YAMLError:
        return
    try:
        records = catalog_parse(document)
    except CatalogError:
        return
    assert all(record["id"] and record["name"] for record in records)


def catalog_json(data: bytes) -> None:
    try:
        document = json.loads(_text(data))
    except json.JSONDecodeError:
        return
    try:
        catalog_parse(document)
    except CatalogError:
        return


TARGETS: dict[str, Callable[[bytes], None]] = {
    "import_line": import_line,
    "catalog_yaml": catalog_yaml,
    "catalog_json": catalog_json,
}
