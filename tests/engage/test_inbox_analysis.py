"""The inbox reads the analysis: complaints and questions want a response, spam and praise do not; the
case's service is the analysis's best tag."""

from __future__ import annotations

import pytest
from django.utils import timezone

from servicepulse.analysis.models import MentionAnalysis, ServiceTag
from servicepulse.engage.selectors import inbox_items
from servicepulse.engage.services import case_open
from tests.factories import MentionFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def _analyse(mention, *, complaint: bool, spam: bool = False, services: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    analysis = MentionAnalysis.objects.create(
        mention=mention,
        created_at=mention.created_at,
        complaint=complaint,
        spam=spam,
        analysed_at=timezone.now(),
    )
    for rank, service_id in enumerate(services):
        ServiceTag.objects.create(
            analysis=analysis,
            service_id=service_id,
            rank=rank,
            created_at=mention.created_at,
            complaint=complaint,
        )
    return analysis


def test_only_complaints_and_questions_not_spam() -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    ServiceFactory(id="wifi", name="Wi-Fi")
    complaint = MentionFactory(text="moodle is down again")
    question = MentionFactory(text="does anyone know when the library wifi is fixed?")
    praise = MentionFactory(text="love the new printing system")
    spam = MentionFactory(text="cheap essays here?? click")
    pending = MentionFactory(text="not analysed yet")
    _analyse(complaint, complaint=True, services=("vle", "wifi"))
    _analyse(question, complaint=False, services=("wifi",))
    _analyse(praise, complaint=False)
    _analyse(spam, complaint=True, spam=True)
    assert set(inbox_items()) == {complaint, question, pending}
    assert list(inbox_items(service_id="vle")) == [complaint]
    assert case_open(mention=complaint).service_id == "vle"  # the best (rank 0) tag
    assert case_open(mention=pending).service_id is None


def test_weekly_themes_read_the_analysis() -> None:
    from datetime import timedelta

    from servicepulse.engage.you_said import complaints_between

    ServiceFactory(id="vle", name="Moodle VLE")
    complaint = MentionFactory(text="moodle upload broken")
    praise = MentionFactory(text="moodle is great today")
    _analyse(complaint, complaint=True, services=("vle",))
    _analyse(praise, complaint=False, services=("vle",))
    found = complaints_between(
        since=complaint.created_at - timedelta(days=1), until=complaint.created_at + timedelta(days=1)
    )
    assert [(c.mention_id, c.service_ids) for c in found] == [(complaint.pk, ("vle",))]


def test_response_times_say_how_many_posts_of_the_period_nobody_acted_on(client, users) -> None:  # type: ignore[no-untyped-def]
    """The table measured only the cases someone opened, so "Answered 1 of 1 case" read as everything
    answered while the inbox held untouched complaints from the same weeks."""
    from servicepulse.engage.services import case_record_reply

    ServiceFactory(id="vle", name="Moodle VLE")
    now = timezone.now()
    answered = MentionFactory(text="moodle is down again", created_at=now)
    _analyse(answered, complaint=True, services=("vle",))
    case_record_reply(case=case_open(mention=answered), text="phoned them", actor=None)
    for text in ("moodle won't load", "moodle logs me out", "when is moodle back?"):
        _analyse(MentionFactory(text=text, created_at=now), complaint="?" not in text, services=("vle",))
    _analyse(MentionFactory(text="BUY FOLLOWERS", created_at=now), complaint=True, spam=True)
    _analyse(
        MentionFactory(text="moodle was down last year", created_at=now.replace(year=now.year - 1)),
        complaint=True,
    )
    client.force_login(users["viewer"])
    for path in ("/inbox/times/", "/inbox/"):
        page = client.get(path).content.decode()
        assert "Not counted above: <strong>3 posts</strong> from the same period" in page, path
