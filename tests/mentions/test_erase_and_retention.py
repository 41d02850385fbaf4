"""Erasing one person's data on request, and per-source retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from servicepulse.analysis.models import MentionAnalysis
from servicepulse.analysis.services import analysis_save
from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.mentions.services import mentions_apply_retention, quarantine_add
from tests.factories import MentionFactory, SourceFactory

pytestmark = pytest.mark.django_db


def test_erase_author_removes_their_posts_analysis_and_quarantine_only() -> None:
    source = SourceFactory(name="fb")
    theirs = [MentionFactory(source=source, author="sam.k"), MentionFactory(source=source, author_id="sam.k")]
    others = MentionFactory(source=source, author="alex")
    for mention in [*theirs, others]:
        analysis_save(
            mention=mention,
            complaint=True,
            complaint_score=0.9,
            sentiment="negative",
            sentiment_score=-0.5,
            spam=False,
            spam_score=0.0,
            services=[],
        )
    quarantine_add(
        source=source, raw='{"author": "sam.k", "text": 5}', reason="text must be a string", position=1
    )
    quarantine_add(
        source=source, raw='{"author": "alex", "text": 5}', reason="text must be a string", position=2
    )

    call_command("erase_author", "sam.k", yes=True)

    assert list(Mention.objects.values_list("author", flat=True)) == ["alex"]
    assert list(MentionAnalysis.objects.values_list("mention_id", flat=True)) == [others.pk]
    assert list(Quarantine.objects.values_list("position", flat=True)) == ["2"]


def test_erase_author_limited_to_a_source() -> None:
    a, b = SourceFactory(name="a"), SourceFactory(name="b")
    MentionFactory(source=a, author="kim")
    MentionFactory(source=b, author="kim")
    call_command("erase_author", "kim", source="a", yes=True)
    assert list(Mention.objects.values_list("source__name", flat=True)) == ["b"]


def test_retention_deletes_only_old_posts_of_sources_with_a_period() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    short = SourceFactory(name="short", retention_days=30)
    keep = SourceFactory(name="keep")
    MentionFactory(source=short, created_at=now - timedelta(days=31), external_id="old")
    MentionFactory(source=short, created_at=now - timedelta(days=29), external_id="new")
    MentionFactory(source=keep, created_at=now - timedelta(days=400), external_id="ancient")
    assert mentions_apply_retention(now=now) == 1
    assert sorted(Mention.objects.values_list("external_id", flat=True)) == ["ancient", "new"]
