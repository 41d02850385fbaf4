"""Inbox cases: the state machine, assignment, notes, saved replies and response times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from servicepulse.engage.models import ActivityKind, Case, CaseActivity, CaseState
from servicepulse.engage.selectors import inbox_counts, inbox_items, response_times, untouched_between
from servicepulse.engage.services import (
    EngageError,
    case_assign,
    case_link_public_incident,
    case_note_add,
    case_open,
    case_transition,
    placeholders_render,
    saved_reply_render,
    saved_reply_save,
)
from servicepulse.sources.models import Audience
from servicepulse.status.services import public_incident_open
from tests.factories import MentionFactory, ServiceFactory, SourceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def test_state_machine_writes_one_activity_per_change(users) -> None:  # type: ignore[no-untyped-def]
    case = case_open(mention=MentionFactory(created_at=T0))
    assert case.state == CaseState.NEW and case.opened_at == T0
    assert case_open(mention=case.mention).pk == case.pk  # one case per mention
    responder = users["responder"]
    case_transition(case=case, to_state=CaseState.WAITING, actor=responder, text="asked IT Ops", at=T0)
    case_transition(case=case, to_state=CaseState.WAITING, actor=responder)  # same state: nothing written
    case_transition(case=case, to_state=CaseState.REPLIED, actor=responder, at=T0 + timedelta(minutes=5))
    case_transition(case=case, to_state=CaseState.CLOSED, actor=responder, at=T0 + timedelta(hours=2))
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closed_at == T0 + timedelta(hours=2)
    rows = list(
        CaseActivity.objects.filter(case=case).values_list(
            "kind", "from_state", "to_state", "actor__username"
        )
    )
    assert rows == [
        ("state", "new", "waiting", "responder"),
        ("state", "waiting", "replied", "responder"),
        ("state", "replied", "closed", "responder"),
    ]
    with pytest.raises(EngageError, match="closed case cannot become waiting"):
        case_transition(case=case, to_state=CaseState.WAITING)
    with pytest.raises(EngageError, match="unknown state"):
        case_transition(case=case, to_state="escalated")
    case_transition(case=case, to_state=CaseState.NEW)  # reopened
    case.refresh_from_db()
    assert case.state == CaseState.NEW and case.closed_at is None


def test_a_failed_transition_changes_nothing(users) -> None:  # type: ignore[no-untyped-def]
    case = case_open(mention=MentionFactory())
    case_transition(case=case, to_state=CaseState.CLOSED)
    before = CaseActivity.objects.count()
    with pytest.raises(EngageError):
        case_transition(case=case, to_state=CaseState.WAITING)
    assert CaseActivity.objects.count() == before
    assert Case.objects.get(pk=case.pk).state == CaseState.CLOSED


def test_assignment_to_person_or_team_and_notes(users) -> None:  # type: ignore[no-untyped-def]
    ServiceFactory(id="vle", team="Digital Learning")
    case = case_open(mention=MentionFactory())
    case_assign(case=case, actor=users["admin"], assignee=users["responder"])
    case.refresh_from_db()
    assert case.state == CaseState.ASSIGNED and case.assignee == users["responder"]
    case_assign(case=case, actor=users["admin"], team="Digital Learning")
    case.refresh_from_db()
    assert case.team == "Digital Learning" and case.assignee is None
    with pytest.raises(EngageError):
        case_assign(case=case, actor=users["admin"])
    case_note_add(case=case, actor=users["responder"], text="Known issue, see ticket 4411")
    kinds = list(case.activities.values_list("kind", flat=True))
    assert kinds == [ActivityKind.ASSIGN, ActivityKind.STATE, ActivityKind.ASSIGN, ActivityKind.NOTE]
    with pytest.raises(EngageError):
        case_note_add(case=case, actor=users["responder"], text="  ")


def test_inbox_lists_new_until_acted_on(users) -> None:  # type: ignore[no-untyped-def]
    first, second = MentionFactory(), MentionFactory()
    assert set(inbox_items(state=CaseState.NEW)) == {first, second}
    case_assign(case=case_open(mention=first), actor=users["admin"], assignee=users["responder"])
    assert list(inbox_items(state=CaseState.NEW)) == [second]
    assert list(inbox_items(state=CaseState.ASSIGNED, assignee_id=users["responder"].pk)) == [first]
    assert inbox_counts()["new"] == 1 and inbox_counts()["assigned"] == 1


def test_peers_posts_never_wait_in_the_inbox(users) -> None:  # type: ignore[no-untyped-def]
    """Peers' posts (the learning digest's) are never analysed, and "not analysed yet" counted as wanting a
    response: every peer post stayed in the inbox as new, and in the report's untouched count, for ever."""
    peers = SourceFactory(name="peer blogs", audience=Audience.PEERS)
    theirs = MentionFactory(source=peers, created_at=T0, text="Our Moodle upgrade went well?")
    ours = MentionFactory(created_at=T0)  # not analysed yet: it still waits
    assert list(inbox_items()) == [ours]
    assert inbox_counts()["new"] == 1
    assert untouched_between(since=T0 - timedelta(days=1), until=T0 + timedelta(days=1)) == 1
    assert theirs.pk not in {m.pk for m in inbox_items(state=CaseState.NEW)}


def test_saved_reply_placeholders(settings) -> None:  # type: ignore[no-untyped-def]
    settings.BASE_URL = "https://it.northgate.ac.uk"
    vle = ServiceFactory(id="vle", name="Moodle VLE")
    saved = saved_reply_save(
        title="Known outage",
        body="Hi {author}, {service} is down; we post updates at {status_url} (not {other",
    )
    case = case_open(mention=MentionFactory(author="@maya"))
    case.service = vle
    case.save()
    assert saved_reply_render(body=saved.body, mention=case.mention, case=case) == (
        "Hi @maya, Moodle VLE is down; we post updates at https://it.northgate.ac.uk/status/ (not {other"
    )
    incident = public_incident_open(title="Moodle down", service_ids=["vle"], body="Investigating")
    case_link_public_incident(case=case, incident=incident)
    assert f"https://it.northgate.ac.uk/status/incidents/{incident.pk}/" in saved_reply_render(
        body=saved.body, mention=case.mention, case=case
    )
    nameless = case_open(mention=MentionFactory(author=""))
    assert (
        saved_reply_render(body="Hi {author}, re {service}", mention=nameless.mention, case=nameless)
        == "Hi there, re our IT services"
    )
    with pytest.raises(EngageError, match=r"unknown placeholder\(s\): \{name\}"):
        saved_reply_save(title="Bad", body="Dear {name}")
    with pytest.raises(EngageError, match="already exists"):
        saved_reply_save(title="Known outage", body="again")
    # Braces that are not placeholders are not format fields: nothing but the three names is ever filled.
    assert placeholders_render(body="{author.__class__} {0}", author="a", service="s", status_link="u") == (
        "{author.__class__} {0}"
    )


def test_response_times_are_medians_per_service() -> None:
    vle, wifi = ServiceFactory(id="vle", name="Moodle VLE"), ServiceFactory(id="wifi", name="Wi-Fi")

    def make(service, minutes_to_reply, hours_to_close, offset):  # type: ignore[no-untyped-def]
        case = case_open(mention=MentionFactory(created_at=T0 + timedelta(hours=offset)))
        case.service = service
        if minutes_to_reply is not None:
            case.first_response_at = case.opened_at + timedelta(minutes=minutes_to_reply)
        if hours_to_close is not None:
            case.closed_at = case.opened_at + timedelta(hours=hours_to_close)
        case.save()

    make(vle, 10, 2, 0)
    make(vle, 30, 6, 1)
    make(vle, 50, None, 2)
    make(wifi, None, None, 3)
    make(None, 5, 1, 4)
    make(vle, 1, 1, 24 * 30)  # outside the window
    times = response_times(since=T0, until=T0 + timedelta(days=7))
    assert set(times) == {"vle", "wifi", None}
    assert times["vle"].cases == 3 and times["vle"].responded == 3 and times["vle"].resolved == 2
    assert times["vle"].first_response_median == timedelta(minutes=30)
    assert times["vle"].resolution_median == timedelta(hours=4)
    assert times["wifi"].first_response_median is None and times["wifi"].cases == 1
    assert times[None].service_name == "No service"
    assert times["vle"].as_dict()["first_response_median_seconds"] == 1800


def test_inbox_pages_keep_the_filters(client, users) -> None:  # type: ignore[no-untyped-def]
    MentionFactory.create_batch(5)  # not the desk's
    desk = MentionFactory.create_batch(55)
    for mention in desk:
        case_assign(case=case_open(mention=mention), actor=users["admin"], team="desk")
    client.force_login(users["viewer"])
    first = client.get("/inbox/?state=all&team=desk").content.decode()
    assert "Page 1 of 2" in first
    assert 'href="?state=all&amp;team=desk&amp;page=2"' in first  # was ?state=all&page=2: every post, 2 pages
    second = client.get("/inbox/?state=all&team=desk&page=2")
    assert len(second.context["page"].object_list) == 5
    assert {m.case.team for m in second.context["page"].object_list} == {"desk"}
