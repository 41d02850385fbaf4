"""Writing the service catalogue."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils.text import slugify

from servicepulse.catalog.models import Service
from servicepulse.catalog.selectors import service_history


class CatalogError(ValueError):
    """A catalogue file or record is malformed; the message names where."""


def _counts_text(counts: dict[str, int]) -> str:
    """{"tagged posts": 1472, "incidents": 3} -> "1,472 tagged posts and 3 incidents"."""
    parts = [f"{count:,} {label}" for label, count in counts.items()]
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + (parts[-1] if parts else "")


class ServiceInUse(CatalogError):
    """The service has history that removing it would delete; `history` says what (see service_history)."""

    def __init__(self, *, service: Service, history: dict[str, int]) -> None:
        self.service = service
        self.history = history
        super().__init__(
            f"{service.name} has {_counts_text(history)}; removing it would delete them, so it stays. "
            "To take it off the public status page mark it not public; to call it something else rename it."
        )


# What a catalogue entry may hold. Anything else is refused rather than skipped: a misspelt key ("alias:")
# would otherwise load the service without what the key held, and say nothing.
CATALOG_KEYS = ("id", "name", "aliases", "examples", "description", "team", "public")


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
        if not isinstance(service_id, str) or slugify(service_id) != service_id:
            raise CatalogError(
                f"{where}: 'id' must be a slug (lower-case letters, digits, hyphens): {service_id!r}"
            )
        if service_id in seen:
            raise CatalogError(f"{where}: duplicate id {service_id!r}")
        seen.add(service_id)
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
        public = item.get("public", True)
        if not isinstance(public, bool):
            raise CatalogError(f"{where} ({service_id}): 'public' must be true or false")
        record["public"] = public
        records.append(record)
    return records


def catalog_read_file(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"cannot read catalogue {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalogue {path} is not valid YAML: {exc}") from exc
    return catalog_parse(data)


@transaction.atomic
def catalog_load(*, data: Any) -> list[Service]:
    """Create or update services from a catalogue document; services not in it are left alone.

    A file naming every service sets the catalogue's order (the board's, the lists'). A partial one (a few
    services added or changed) leaves the others' order alone and puts its new services after them, in the
    file's order: numbering it from the top put "Parking" between the first services and moved the ones it
    updated to the front."""
    records = catalog_parse(data)
    existing = dict(Service.objects.values_list("id", "order"))
    whole = set(existing) <= {r["id"] for r in records}
    after = max(existing.values(), default=-1) + 1
    services = []
    for index, record in enumerate(records):
        if whole:
            order = index
        elif record["id"] in existing:
            order = existing[record["id"]]
        else:
            order, after = after, after + 1
        service, _ = Service.objects.update_or_create(id=record["id"], defaults={**record, "order": order})
        services.append(service)
    return services


@transaction.atomic
def service_save(
    *,
    service_id: str,
    name: str,
    aliases: list[str] | None = None,
    description: str = "",
    examples: list[str] | None = None,
    team: str = "",
    public: bool = True,
    sensitivity: float | None = None,
    target_score: int | None = None,
) -> Service:
    """Create or update one service (the catalogue editor's save). Validates like a catalogue file entry."""
    record = catalog_parse(
        {
            "services": [
                {
                    "id": service_id,
                    "name": name,
                    "aliases": aliases or [],
                    "description": description,
                    "examples": examples or [],
                    "team": team,
                    "public": public,
                }
            ]
        }
    )[0]
    defaults: dict[str, Any] = {**record, "target_score": target_score}
    if sensitivity is not None:
        if not (math.isfinite(sensitivity) and 0.1 <= sensitivity <= 10.0):
            raise CatalogError(
                f"{service_id}: sensitivity must be a number from 0.1 to 10, got {sensitivity}"
            )
        defaults["sensitivity"] = sensitivity
    if not Service.objects.filter(id=record["id"]).exists():
        defaults["order"] = Service.objects.count()
    service, _ = Service.objects.update_or_create(id=record["id"], defaults=defaults)
    return service


@transaction.atomic
def service_delete(*, service_id: str) -> None:
    """Remove a service that has no history (a mistake, a test entry). Raises ServiceInUse, naming what it
    has, when anything points at it: tagged posts, incidents, tickets, inbox cases, status-page entries and
    subscriptions, alert rules (the database would delete them with it); Service.DoesNotExist when unknown."""
    # Locked, so that nothing can be tagged to it between the count and the delete (it waits, then fails).
    service = Service.objects.select_for_update().get(id=service_id)
    history = service_history(service_id=service.id)
    if history:
        raise ServiceInUse(service=service, history=history)
    service.delete()
