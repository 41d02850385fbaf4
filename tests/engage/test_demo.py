"""The engage side of the demo: an answered inbox history with response times, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from servicepulse.engage.demo import demo_engage_load
from servicepulse.engage.models import Case, CaseState, SavedReply
from servicepulse.engage.selectors import inbox_items, response_times
from servicepulse.status.models import Maintenance, Subscription
from tests.factories import MentionFactory, ServiceFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_demo_history_is_answered_and_loaded_once(users) -> None:  # type: ignore[no-untyped-def]
    ServiceFactory(id="printing", name="Printing")
    ServiceFactory(id="vle", name="Moodle VLE")
    for hours in range(0, 24 * 10, 3):
        MentionFactory(created_at=NOW - timedelta(hours=hours))
    summary = demo_engage_load(seed=1, now=NOW)
    assert SavedReply.objects.count() == 3
    assert summary.cases == Case.objects.count() > 10
    assert Case.objects.filter(state=CaseState.CLOSED).exists()
    assert all(c.first_response_at is None or c.first_response_at > c.opened_at for c in Case.objects.all())
    # The last two days are left for the demo user to answer.
    assert not Case.objects.filter(opened_at__gte=NOW - timedelta(days=2)).exists()
    assert inbox_items(state=CaseState.NEW).filter(created_at__gte=NOW - timedelta(days=2)).count() == 17
    times = response_times(since=NOW - timedelta(days=30), until=NOW)
    assert times[None].responded == summary.answered and times[None].first_response_median is not None
    window = Maintenance.objects.get()
    assert [s.id for s in window.services.all()] == ["printing"] and window.starts_at > NOW
    assert Subscription.objects.count() == 2
    again = demo_engage_load(seed=1, now=NOW)
    assert again.cases == 0 and again.notes and Case.objects.count() == summary.cases


def test_demo_status_history_emails_no_subscriber(  # type: ignore[no-untyped-def]
    users, immediate_tasks, django_capture_on_commit_callbacks
) -> None:
    """The demo publishes past outages on the status page and adds subscribers; the updates' e-mails went out
    once the load committed, telling the subscribers about outages weeks over."""
    from django.core import mail

    from servicepulse.incidents.models import IncidentKind, IncidentState
    from servicepulse.incidents.services import incident_create, incident_update_status
    from servicepulse.status.models import PublicIncident

    ServiceFactory(id="printing", name="Printing", public=True)
    for days in (30, 20, 10):  # the latest is left for the demo user to publish
        incident = incident_create(
            service_id="printing",
            title="Printing: complaints rising",
            started_at=NOW - timedelta(days=days),
            kind=IncidentKind.DETECTED,
            state=IncidentState.CONFIRMED,
        )
        incident_update_status(
            incident=incident, state=IncidentState.RESOLVED, at=NOW - timedelta(days=days, hours=-3)
        )
    with django_capture_on_commit_callbacks(execute=True):
        demo_engage_load(seed=1, now=NOW)
    # Two past outages of one service, published at once under one title: not a double click.
    published = list(PublicIncident.objects.order_by("started_at"))
    assert len(published) == 2 and published[0].title == published[1].title
    for incident in published:
        assert [u.status for u in incident.updates.order_by("created_at")] == [
            "investigating",
            "identified",
            "resolved",
        ]
    assert Subscription.objects.exists()
    # Only the demo's upcoming maintenance window is news.
    assert [m.subject for m in mail.outbox] == ["[Scheduled maintenance] Printing upgrade"]
