"""Reads over the service catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import ForeignObjectRel, ManyToManyRel, Min, QuerySet

from servicepulse.catalog.models import Service

# What a service's history is made of, by the model that points at it: (one, several) as the pages say it.
# Found through the relations themselves, so a model added later that points at Service keeps a service too
# (under its own name) until it is given a label here or listed as derived below.
HISTORY_LABELS: dict[str, tuple[str, str]] = {
    "analysis.ServiceTag": ("tagged post", "tagged posts"),
    "incidents.Incident": ("incident", "incidents"),
    "experience.Ticket": ("service-desk ticket", "service-desk tickets"),
    "dashboard.ServiceDay": ("day of experience counts", "days of experience counts"),
    "engage.Case": ("inbox case", "inbox cases"),
    "status.PublicIncident": ("status-page incident", "status-page incidents"),
    "status.Maintenance": ("status-page maintenance", "status-page maintenances"),
    "status.Subscription": ("status-page subscription", "status-page subscriptions"),
    "incidents.AlertRule": ("alert rule naming it", "alert rules naming it"),
}
# Working state rebuilt from the history above: it goes with a service that has none and keeps nothing.
HISTORY_DERIVED = frozenset({"incidents.DetectorSnapshot"})


def service_list(*, public_only: bool = False) -> QuerySet[Service]:
    qs = Service.objects.all()
    return qs.filter(public=True) if public_only else qs


def service_first_added_at() -> datetime | None:
    """When the oldest service entered the catalogue (None with an empty catalogue)."""
    first: datetime | None = Service.objects.aggregate(first=Min("created_at"))["first"]
    return first


def catalog_document(*, with_detection: bool = False) -> dict[str, Any]:
    """The catalogue as a catalogue file holds it (`servicepulse catalog export`), in the catalogue's order;
    `with_detection` adds each service's detection sensitivity and score target (the export's first line)."""
    services = []
    for s in Service.objects.order_by("order", "name", "id"):
        record: dict[str, Any] = {
            "id": s.id,
            "name": s.name,
            "aliases": list(s.aliases),
            "description": s.description,
            "examples": list(s.examples),
            "team": s.team,
            "public": s.public,
        }
        if with_detection:
            record.update(sensitivity=s.sensitivity, target_score=s.target_score)
        services.append(record)
    return {"services": services}


def catalog_as_records() -> list[dict[str, Any]]:
    """The catalogue in the shape of a catalogue file, for the tagger."""
    return [
        {
            "id": s.id,
            "name": s.name,
            "aliases": list(s.aliases),
            "description": s.description,
            "examples": list(s.examples),
        }
        for s in Service.objects.order_by("order", "name")
    ]


def _history_relations() -> list[ForeignObjectRel]:
    """Every relation pointing at Service, once: a many-to-many through a model of our own is counted by
    that model's foreign key; one Django made up is counted by the many-to-many itself."""
    relations = []
    for field in Service._meta.get_fields(include_hidden=True):
        if not isinstance(field, ForeignObjectRel):
            continue
        model = field.related_model
        if model._meta.auto_created:  # the hidden table of a plain many-to-many
            continue
        if (
            isinstance(field, ManyToManyRel)
            and field.through is not None
            and not field.through._meta.auto_created
        ):
            continue
        if model._meta.label in HISTORY_DERIVED:
            continue
        relations.append(field)
    return relations


def service_history(*, service_id: str) -> dict[str, int]:
    """What would go (or lose its service) if the service were removed: counts by what people call them
    ("tagged posts", "incidents", ...), only the kinds it has. Empty: the service has no history."""
    history: dict[str, int] = {}
    for relation in _history_relations():
        model = relation.related_model
        count = model._default_manager.filter(**{relation.field.name: service_id}).count()
        if count:
            one, several = HISTORY_LABELS.get(
                model._meta.label, (str(model._meta.verbose_name), str(model._meta.verbose_name_plural))
            )
            history[one if count == 1 else several] = count
    return history


def service_resolve(*, terms: list[str]) -> tuple[list[str], list[str]]:
    """Service ids for what a person typed: ids, names or aliases, any case (an id before a name before an
    alias; an alias two services share names neither). Returns (ids in the order given without repeats,
    the terms that name no service)."""
    by_id: dict[str, str] = {}
    by_name: dict[str, str] = {}
    by_alias: dict[str, str] = {}
    shared: set[str] = set()
    for service_id, name, service_aliases in Service.objects.values_list("id", "name", "aliases"):
        by_id[service_id.casefold()] = service_id
        by_name.setdefault(name.strip().casefold(), service_id)
        for alias in service_aliases or []:
            key = str(alias).strip().casefold()
            if by_alias.setdefault(key, service_id) != service_id:
                shared.add(key)
    for key in shared:
        del by_alias[key]
    ids: list[str] = []
    unknown: list[str] = []
    for term in terms:
        key = term.strip().casefold()
        found = by_id.get(key) or by_name.get(key) or by_alias.get(key)
        if found is None:
            unknown.append(term.strip())
        elif found not in ids:
            ids.append(found)
    return ids, unknown
