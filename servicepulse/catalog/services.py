"""Writing the service catalogue."""

from __future__ import annotations

import math
from typing import Any

from django.db import transaction

from servicepulse.catalog.document import CatalogError, catalog_parse
from servicepulse.catalog.models import Service
from servicepulse.catalog.selectors import service_history


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
