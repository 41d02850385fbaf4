"""Reading and checking a catalogue file (YAML), the same shape `catalog_as_records()` gives from the database:

services:
  - id: vle
    name: "Moodle VLE"
    aliases: ["moodle", "vle"]
    description: "the virtual learning environment"
    examples: ["moodle logged me out while uploading my essay"]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from django.utils.text import slugify

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class CatalogError(ValueError):
    """The catalogue is malformed; the message says where."""


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where} must be a list of strings")
    return [v for v in value if v.strip()]


def validate_records(
    records: Iterable[Mapping[str, Any]], *, origin: str = "catalogue"
) -> list[dict[str, Any]]:
    """Check and normalise catalogue records: unique ids (a missing one is the slug of the name, as `catalog
    load` makes it), a name, string lists for aliases and examples."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, record in enumerate(records):
        where = f"{origin}: service #{i + 1}"
        if not isinstance(record, Mapping):
            raise CatalogError(f"{where} is not a mapping")
        service_id = record.get("id")
        if service_id is None and isinstance(record.get("name"), str):
            # As `servicepulse catalog load` does: a service without an id gets the slug of its name.
            service_id = slugify(record["name"]) or None
        if not isinstance(service_id, str) or not _ID.match(service_id):
            raise CatalogError(
                f"{where} needs an id of letters, digits, '-', '_' or '.' (got {service_id!r})"
            )
        where = f"{origin}: service {service_id!r}"
        if service_id in seen:
            raise CatalogError(f"{where} appears twice")
        seen.add(service_id)
        name = record.get("name", service_id)
        description = record.get("description", "") or ""
        if not isinstance(name, str) or not name.strip():
            raise CatalogError(f"{where} needs a non-empty name")
        if not isinstance(description, str):
            raise CatalogError(f"{where}: description must be a string")
        out.append(
            {
                "id": service_id,
                "name": name.strip(),
                "aliases": _strings(record.get("aliases"), f"{where}: aliases"),
                "description": description.strip(),
                "examples": _strings(record.get("examples"), f"{where}: examples"),
            }
        )
    return out


def load_catalog_file(path: Path | str) -> list[dict[str, Any]]:
    """The services of a catalogue YAML file, checked; raises CatalogError with a one-line reason."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogError(f"catalogue file not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise CatalogError(f"{path}: not valid YAML{where}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("services"), list):
        raise CatalogError(f"{path}: expected a mapping with a 'services' list")
    if not data["services"]:
        raise CatalogError(f"{path}: the 'services' list is empty")
    return validate_records(data["services"], origin=str(path))
