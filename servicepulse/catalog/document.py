"""Reading a catalogue document: the one reader behind `catalog load`, `analyze --catalog`, the catalogue
editor's save and a restored export, so that one file means the same services to each. It touches no
model (the tagger and the benchmarks read catalogue files without a database).

A catalogue file (README, "Catalogue file") looks like:

services:
  - id: vle                       # optional: the slug of the name
    name: "Moodle VLE"
    aliases: ["moodle", "vle"]
    description: "the virtual learning environment"
    examples: ["moodle logged me out while uploading my essay"]
    team: "Digital Learning"      # optional
    public: true                  # optional: on the public status page
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.utils.text import slugify


class CatalogError(ValueError):
    """A catalogue file or record is malformed; the message, one line, names where."""


# What a catalogue entry may hold. Anything else is refused rather than skipped: a misspelt key ("alias:")
# would otherwise load the service without what the key held, and say nothing.
CATALOG_KEYS = ("id", "name", "aliases", "examples", "description", "team", "public")

# The longest value each text field of catalog.Service holds (its max_length; this module touches no model).
# Checked here so that an over-long value is refused with a line naming it, like any other mistake: PostgreSQL
# would otherwise fail the whole load with a database traceback, and SQLite would store it uncut.
MAX_LENGTHS = {"id": 64, "name": 200, "team": 200}


def _check_length(where: str, key: str, value: str) -> None:
    limit = MAX_LENGTHS[key]
    if len(value) > limit:
        raise CatalogError(f"{where}: '{key}' is {len(value)} characters long; it may have at most {limit}")


def catalog_parse(data: Any, *, extra_keys: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Validate a catalogue document ({"services": [...]}) and return normalised service records.
    `extra_keys` are further keys the caller reads itself (the export's detection settings)."""
    if not isinstance(data, dict) or not isinstance(data.get("services"), list):
        raise CatalogError("a catalogue is a mapping with a 'services' list")
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    allowed = (*CATALOG_KEYS, *extra_keys)
    for index, item in enumerate(data["services"], start=1):
        where = f"service #{index}"
        if not isinstance(item, dict):
            raise CatalogError(f"{where}: expected a mapping, got {type(item).__name__}")
        unknown = [str(key) for key in item if key not in allowed]
        if unknown:
            named = f" ({item['id']})" if isinstance(item.get("id"), str) else ""
            raise CatalogError(
                f"{where}{named}: unknown key{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(k) for k in unknown)}; an entry may have {', '.join(allowed)}"
            )
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise CatalogError(f"{where}: 'name' must be a non-empty string")
        service_id = item.get("id") or slugify(name)
        if not isinstance(service_id, str) or not service_id or slugify(service_id) != service_id:
            raise CatalogError(
                f"{where}: 'id' must be a slug (lower-case letters, digits, hyphens): {service_id!r}"
                + ("" if "id" in item else " (no id given, and none can be made of the name)")
            )
        _check_length(where, "id", service_id)
        if service_id in seen:
            raise CatalogError(f"{where}: duplicate id {service_id!r}")
        seen.add(service_id)
        _check_length(f"{where} ({service_id})", "name", name.strip())
        record: dict[str, Any] = {"id": service_id, "name": name.strip()}
        for key in ("aliases", "examples"):
            value = item.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise CatalogError(f"{where} ({service_id}): '{key}' must be a list of strings")
            record[key] = [v.strip() for v in value if v.strip()]
        for key in ("description", "team"):
            value = item.get(key, "")
            if not isinstance(value, str):
                raise CatalogError(f"{where} ({service_id}): '{key}' must be a string")
            record[key] = value.strip()
            if key in MAX_LENGTHS:
                _check_length(f"{where} ({service_id})", key, record[key])
        public = item.get("public", True)
        if not isinstance(public, bool):
            raise CatalogError(f"{where} ({service_id}): 'public' must be true or false")
        record["public"] = public
        records.append(record)
    return records


def catalog_read_file(path: Path | str) -> list[dict[str, Any]]:
    """The services of a catalogue YAML file, checked; CatalogError with a one-line reason otherwise."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"catalogue file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"catalogue {path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x})"
        ) from None
    except OSError as exc:  # a directory, a file we may not read
        raise CatalogError(f"cannot read the catalogue {path}: {exc.strerror}") from None
    except RecursionError:
        raise CatalogError(f"catalogue {path} is nested too deeply") from None
    except yaml.YAMLError as exc:
        # YAML's own message spans several lines, with the offending text and a caret.
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise CatalogError(
            f"catalogue {path} is not valid YAML{': ' + problem if problem else ''}{where}"
        ) from None
    try:
        records = catalog_parse(data)
    except CatalogError as exc:
        raise CatalogError(f"catalogue {path}: {exc}") from None
    if not records:
        raise CatalogError(f"catalogue {path}: the 'services' list is empty")
    return records
