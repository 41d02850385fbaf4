"""Incident and alert rule pages against the incidents app's models and services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

incident_services = pytest.importorskip(
    "servicepulse.incidents.services", reason="the incidents app is not there"
)


@pytest.fixture
def incident(world: dict[str, Any]) -> Any:
    vle = world["services"][0]
    incident = incident_services.incident_create(
        service_id=vle.id,
        title="Moodle failing on deadline night",
        started_at=timezone.now() - timedelta(hours=2),
        explanation={
            "summary": "34 complaints about Moodle VLE from 21 people since 21:40.",
            "terms": [
                {"term": "upload", "ratio": 9.5, "posts": 14},
                {"term": "deadline", "ratio": 6.0, "posts": 9},
            ],
            "representatives": ["moodle won't let me upload my essay and it's due at midnight"],
            "growth": "12 complaints in the first hour; ten people within 35 minutes",
        },
    )
    posts = [(m.pk, m.author_key) for m in world["mentions"][:5]]
    incident_services.incident_attach_mentions(incident=incident, posts=posts)
    return incident


@pytest.mark.django_db
def test_incident_list_and_board_show_an_open_incident(
    incident: Any, clients: dict[str, Client], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(10):
        listing = clients["viewer"].get("/incidents/")
    assert incident.title in listing.content.decode()
    board = clients["viewer"].get("/").content.decode()
    assert "Moodle failing on deadline night" in board
    assert 'class="card svc state-incident"' in board
    assert (
        clients["viewer"].get("/incidents/", {"state": "resolved"}).content.decode().count(incident.title)
        == 0
    )


@pytest.mark.django_db
def test_incident_detail_shows_explanation_timeline_posts_and_people(
    incident: Any, world: dict[str, Any], clients: dict[str, Client]
) -> None:
    html = clients["viewer"].get(f"/incidents/{incident.pk}/").content.decode()
    assert "34 complaints about Moodle VLE" in html
    assert "upload" in html and "\u00d79.5" in html
    assert "due at midnight" in html
    assert "ten people within 35 minutes" in html
    assert "Affected people (5)" in html
    assert world["mentions"][0].text[:30] in html
    assert "Change state" not in html  # viewers read only
    assert clients["viewer"].get("/incidents/999999/").status_code == 404


@pytest.mark.django_db
def test_responder_resolves_and_notes_an_incident(incident: Any, clients: dict[str, Client]) -> None:
    responder = clients["responder"]
    assert "Change state" in responder.get(f"/incidents/{incident.pk}/").content.decode()
    response = responder.post(
        f"/incidents/{incident.pk}/act/",
        {"action": "state", "state": "resolved", "comment": "restarted the pool"},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == "resolved"
    responder.post(f"/incidents/{incident.pk}/act/", {"action": "note", "comment": "root cause: disk full"})
    html = responder.get(f"/incidents/{incident.pk}/").content.decode()
    assert "restarted the pool" in html and "root cause: disk full" in html
    refused = clients["viewer"].post(
        f"/incidents/{incident.pk}/act/", {"action": "state", "state": "confirmed"}
    )
    assert refused.status_code == 403


@pytest.mark.django_db
def test_responder_opens_an_incident_and_plans_maintenance(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    from servicepulse.incidents.models import Incident

    start = timezone.localtime().replace(second=0, microsecond=0)
    response = clients["responder"].post(
        "/incidents/open/",
        {
            "kind": "manual",
            "service": "wifi",
            "title": "Eduroam down in Hopkins",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    assert Incident.objects.filter(title="Eduroam down in Hopkins", service_id="wifi").exists()
    clients["responder"].post(
        "/incidents/open/",
        {
            "kind": "maintenance",
            "service": "vle",
            "title": "Moodle upgrade",
            "start": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "end": (start + timedelta(days=1, hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert Incident.objects.get(title="Moodle upgrade").kind == "maintenance"
    no_end = clients["responder"].post(
        "/incidents/open/",
        {"kind": "maintenance", "service": "vle", "title": "x", "start": start.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert "needs an end" in no_end.content.decode()


@pytest.mark.django_db
def test_alert_rules_page_lists_and_creates(
    world: dict[str, Any], clients: dict[str, Client], django_assert_max_num_queries: Any
) -> None:
    from servicepulse.incidents.models import AlertRule

    admin = clients["admin"]
    response = admin.post(
        "/alerts/",
        {
            "name": "Desk on Teams",
            "channel": "teams",
            "target": "https://example.invalid/hook",
            "services": ["vle", "wifi"],
            "min_state": "possible",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    )
    assert response.status_code == 302, response.content.decode()
    rule = AlertRule.objects.get(name="Desk on Teams")
    assert set(rule.services.values_list("id", flat=True)) == {"vle", "wifi"}
    with django_assert_max_num_queries(10):
        html = admin.get("/alerts/").content.decode()
    assert "Desk on Teams" in html and "22:00 to 07:00" in html
    half = admin.post(
        "/alerts/",
        {
            "name": "x",
            "channel": "email",
            "target": "a@b.c",
            "min_state": "confirmed",
            "quiet_start": "22:00",
        },
    )
    assert "Give both ends" in half.content.decode()


@pytest.mark.django_db
def test_incident_page_query_count_does_not_grow_with_posts(
    incident: Any, world: dict[str, Any], clients: dict[str, Client], django_assert_max_num_queries: Any
) -> None:
    more = [(m.pk, m.author_key) for m in world["mentions"][5:]]
    incident_services.incident_attach_mentions(incident=incident, posts=more)
    with django_assert_max_num_queries(12):
        html = clients["viewer"].get(f"/incidents/{incident.pk}/").content.decode()
    assert "The first 25 of 30 posts." in html
