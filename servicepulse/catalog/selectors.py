"""Reads over the service catalogue."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from servicepulse.catalog.models import Service


def service_list(*, public_only: bool = False) -> QuerySet[Service]:
    qs = Service.objects.all()
    return qs.filter(public=True) if public_only else qs


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
