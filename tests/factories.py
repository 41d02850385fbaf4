"""factory_boy factories for the core models. Apps add theirs here (append, keep alphabetical by model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory

from servicepulse.catalog.models import Service
from servicepulse.mentions.models import Mention
from servicepulse.sources.models import Source, SourceKind


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    description = "A service"


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    kind = SourceKind.IMPORT
    name = factory.Sequence(lambda n: f"source-{n}")


class MentionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mention

    source = factory.SubFactory(SourceFactory)
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    text = factory.Sequence(lambda n: f"post number {n}")
    author = factory.Sequence(lambda n: f"user{n}")
    created_at = factory.Sequence(lambda n: datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=n))
