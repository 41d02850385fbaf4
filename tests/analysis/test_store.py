"""Storing analysis results and corrections: one row per mention, corrections override at once and survive
re-analysis, tags repeat the effective labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from servicepulse.analysis.models import MentionAnalysis, ServiceTag
from servicepulse.analysis.selectors import analysed_posts, mention_filter, mentions_unanalysed
from servicepulse.analysis.services import CorrectionError, analysis_save, correction_create
from servicepulse.mentions.models import Mention
from tests.factories import MentionFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def _save(mention: Mention, **overrides: object) -> MentionAnalysis:
    values: dict[str, object] = {
        "complaint": True,
        "complaint_score": 0.9,
        "sentiment": "negative",
        "sentiment_score": -0.8,
        "spam": False,
        "spam_score": 0.01,
        "services": [("vle", 0.8), ("wifi", 0.4), ("not-in-catalogue", 0.3)],
        "language": "en",
        "model_version": "t1",
    }
    values.update(overrides)
    return analysis_save(mention=mention, **values)  # type: ignore[arg-type]


def test_save_twice_keeps_one_row_and_ranks_known_services() -> None:
    ServiceFactory(id="vle")
    ServiceFactory(id="wifi")
    mention = MentionFactory()
    _save(mention)
    analysis = _save(mention, services=[("wifi", 0.7)])
    assert MentionAnalysis.objects.count() == 1
    assert analysis.service_ids == ["wifi"]
    _save(mention)
    assert list(ServiceTag.objects.order_by("rank").values_list("service_id", "rank", "complaint")) == [
        ("vle", 0, True),
        ("wifi", 1, True),
    ]


def test_corrections_override_at_once_and_survive_reanalysis(users: dict) -> None:  # type: ignore[type-arg]
    ServiceFactory(id="vle")
    ServiceFactory(id="printing")
    mention = MentionFactory()
    _save(mention)
    correction_create(mention=mention, field="complaint", value=False, user=users["responder"])
    correction_create(mention=mention, field="services", value=["printing"], user=users["responder"])
    analysis = MentionAnalysis.objects.get(mention=mention)
    assert analysis.complaint is False
    assert analysis.service_ids == ["printing"]
    assert ServiceTag.objects.get().complaint is False
    assert analysis.model_output["complaint"] is True  # the model's answer is kept for training
    _save(mention)  # the models run again: the analyst still wins
    analysis.refresh_from_db()
    assert (analysis.complaint, analysis.service_ids, sorted(analysis.corrected)) == (
        False,
        ["printing"],
        ["complaint", "services"],
    )


def test_correction_before_analysis_and_bad_values() -> None:
    mention = MentionFactory()
    correction_create(mention=mention, field="sentiment", value="positive")
    assert MentionAnalysis.objects.get(mention=mention).sentiment == "positive"
    for field, value in [("sentiment", "angry"), ("spam", "yes"), ("services", ["nope"]), ("language", "fr")]:
        with pytest.raises(CorrectionError):
            correction_create(mention=mention, field=field, value=value)


def test_selectors_filter_and_list() -> None:
    ServiceFactory(id="vle")
    start = datetime(2026, 10, 1, tzinfo=UTC)
    a = MentionFactory(created_at=start, author="ann")
    b = MentionFactory(created_at=start + timedelta(hours=1))
    spam = MentionFactory(created_at=start + timedelta(hours=2))
    unread = MentionFactory(created_at=start + timedelta(hours=3))
    _save(a)
    _save(b, complaint=False, sentiment="positive", services=[])
    _save(spam, spam=True)
    posts = list(analysed_posts(since=start, until=start + timedelta(days=1)))
    assert [(p.mention_id, p.complaint, p.sentiment, p.service_ids) for p in posts] == [
        (a.pk, True, -1.0, ("vle",)),
        (b.pk, False, 1.0, ()),
    ]
    assert [
        p.mention_id
        for p in analysed_posts(since=start, until=start + timedelta(days=1), service_ids=["vle"])
    ] == [a.pk]
    day = {"since": start, "until": start + timedelta(days=1)}
    assert [p.mention_id for p in analysed_posts(**day, complaints_only=True)] == [a.pk]
    assert list(mention_filter(Mention.objects.all(), service_id="vle", spam=False)) == [a]
    assert mentions_unanalysed() == [unread.pk]


def test_a_post_corrected_before_its_analysis_ran_is_still_swept_for_the_models() -> None:
    ServiceFactory(id="vle")
    corrected, read = MentionFactory(), MentionFactory()
    _save(read)
    # An analyst corrects a post whose analysis task was lost: `correction_create` makes its analysis row, with
    # no model output. The sweeper took that row for an analysis and never re-queued the post.
    correction_create(mention=corrected, field="sentiment", value="negative")
    assert mentions_unanalysed() == [corrected.pk]
    _save(corrected)  # the models read it: no longer swept, and the analyst's label still wins
    assert mentions_unanalysed() == []
    assert MentionAnalysis.objects.get(mention=corrected).sentiment == "negative"
