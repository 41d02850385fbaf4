"""factory_boy factories for the core models. Apps add theirs here (append, keep alphabetical by model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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


def analysed(
    mention: Mention,
    *,
    services: list[tuple[str, float]],
    complaint: bool = True,
    sentiment: str = "negative",
    spam: bool = False,
    language: str = "en",
) -> Any:
    """Store the models' reading of `mention` through `analysis_save`, as the pipeline would, with scores that
    follow the labels: what most tests need of an analysed post."""
    from servicepulse.analysis.services import analysis_save

    return analysis_save(
        mention=mention,
        complaint=complaint,
        complaint_score=0.9 if complaint else 0.1,
        sentiment=sentiment,
        sentiment_score={"negative": -0.8, "neutral": 0.0, "positive": 0.8}[sentiment],
        spam=spam,
        spam_score=0.95 if spam else 0.02,
        services=services,
        language=language,
    )
