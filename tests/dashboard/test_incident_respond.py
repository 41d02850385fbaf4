"""The incident page offers only the state changes that can succeed, keeps a refused note with its reason,
and the incidents list's "Detected" filter leaves planned maintenance out."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.incidents.models import ActivityType, Incident, IncidentKind, IncidentState
from servicepulse.incidents.services import incident_create, incident_update_status, maintenance_schedule


def state_options(page: str) -> list[str]:
    select = re.search(r'<select name="state".*?</select>', page, re.S)
    return re.findall(r'<option value="(\w+)"', select.group(0)) if select else []


def listed(client: Client, state: str) -> str:
    return client.get("/incidents/", {"state": state}).content.decode()


@pytest.fixture
def incident(world: dict[str, Any]) -> Incident:
    return incident_create(
        service_id="vle",
        title="Moodle failing on deadline night",
        started_at=timezone.now() - timedelta(hours=2),
        kind=IncidentKind.DETECTED,
        state=IncidentState.POSSIBLE,
    )


@pytest.mark.django_db
def test_the_state_form_offers_only_changes_the_service_allows(
    incident: Incident, clients: dict[str, Client]
) -> None:
    responder, url = clients["responder"], f"/incidents/{incident.pk}/"
    assert state_options(responder.get(url).content.decode()) == ["confirmed", "resolved"]
    incident_update_status(incident=incident, state=IncidentState.CONFIRMED)
    page = responder.get(url).content.decode()
    assert state_options(page) == ["resolved"]  # "Possible problem" would always be refused
    incident_update_status(incident=incident, state=IncidentState.RESOLVED)
    assert state_options(responder.get(url).content.decode()) == ["confirmed"]  # reopen
    # Each offered change goes through (reopening once its box is ticked).
    response = responder.post(
        f"{url}act/", {"action": "state", "state": "confirmed", "confirm_reopen": "on"}, follow=True
    )
    assert "Reopened as Problem detected." in html.unescape(response.content.decode())
    assert Incident.objects.get(pk=incident.pk).state == IncidentState.CONFIRMED


@pytest.mark.django_db
def test_reopening_a_resolved_incident_takes_a_deliberate_choice(
    incident: Incident, clients: dict[str, Client]
) -> None:
    """On a resolved incident the state box offered one choice, "Problem detected", already selected: one
    click on "Change state" reopened it and alerted everyone. No change is chosen in advance now, and
    reopening needs its own box ticked, behind a "Reopen incident" button."""
    responder, url = clients["responder"], f"/incidents/{incident.pk}/"
    page = responder.get(url).content.decode()  # possible: confirming is not preselected either
    assert re.search(r'<option value="" selected>— choose —</option>', page)
    assert not re.search(r'<option value="\w+" selected>', page)
    incident_update_status(incident=incident, state=IncidentState.RESOLVED)
    page = responder.get(url).content.decode()
    assert re.search(r'<option value="" selected>— choose —</option>', page)
    assert not re.search(r'<option value="\w+" selected>', page)
    assert "Reopen incident" in page and "Change state" not in page
    assert 'name="confirm_reopen"' in page and "alert everyone" in page
    # The old one-click post (the state the box used to preselect) no longer reopens it, nor does no choice.
    for data in ({"state": "confirmed"}, {"state": "", "confirm_reopen": "on"}):
        refused = responder.post(f"{url}act/", {"action": "state", **data}, follow=True)
        assert "The state was not changed." in html.unescape(refused.content.decode())
        assert Incident.objects.get(pk=incident.pk).state == IncidentState.RESOLVED
    shown = html.unescape(
        responder.post(f"{url}act/", {"action": "state", "state": "confirmed"}, follow=True).content.decode()
    )
    assert "Tick the box to reopen the incident" in shown
    reopened = responder.post(
        f"{url}act/", {"action": "state", "state": "confirmed", "confirm_reopen": "on"}, follow=True
    )
    assert "Reopened as Problem detected." in html.unescape(reopened.content.decode())
    assert Incident.objects.get(pk=incident.pk).state == IncidentState.CONFIRMED
    # Open again, the ordinary form is back.
    assert "Change state" in responder.get(url).content.decode()


@pytest.mark.django_db
def test_a_completed_maintenance_window_offers_no_state_change(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    start = timezone.now() - timedelta(hours=1)
    window = maintenance_schedule(
        service_id="printing", title="Printing upgrade", start=start, end=start + timedelta(hours=2)
    )
    incident_update_status(incident=window, state=IncidentState.RESOLVED)
    page = clients["responder"].get(f"/incidents/{window.pk}/").content.decode()
    assert state_options(page) == [] and "Change state" not in page
    assert "Add note" in page


@pytest.mark.django_db
def test_a_note_too_long_is_answered_with_the_reason_and_kept(
    incident: Incident, clients: dict[str, Client]
) -> None:
    note = "The pool ran out of connections. " * 130  # 4290 characters
    response = clients["responder"].post(
        f"/incidents/{incident.pk}/act/", {"action": "note", "comment": note}
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f"A note is at most 4000 characters (this one has {len(note.strip())})." in page
    assert "Write a note first." not in page
    textarea = re.search(r'<textarea name="comment"[^>]*>(.*?)</textarea>', page, re.S)
    assert textarea is not None and textarea.group(1).strip() == note.strip()
    assert not incident.activities.filter(type=ActivityType.NOTE).exists()
    # An empty note still gets its own answer; a note within the limit is added.
    empty = clients["responder"].post(f"/incidents/{incident.pk}/act/", {"action": "note", "comment": "  "})
    assert "Write a note first." in html.unescape(empty.content.decode())
    ok = clients["responder"].post(
        f"/incidents/{incident.pk}/act/", {"action": "note", "comment": note[:4000]}
    )
    assert ok.status_code == 302
    assert incident.activities.filter(type=ActivityType.NOTE).count() == 1


@pytest.mark.django_db
def test_the_detected_filter_leaves_planned_maintenance_out(
    incident: Incident, world: dict[str, Any], clients: dict[str, Client]
) -> None:
    incident_update_status(incident=incident, state=IncidentState.CONFIRMED)
    start = timezone.now() + timedelta(days=1)
    maintenance_schedule(
        service_id="printing", title="Printing upgrade", start=start, end=start + timedelta(hours=2)
    )
    viewer = clients["viewer"]
    detected = listed(viewer, "confirmed")
    assert "Moodle failing on deadline night" in detected
    assert "Printing upgrade" not in detected
    maintenance = listed(viewer, "maintenance")
    assert "Printing upgrade" in maintenance and "Moodle failing" not in maintenance
    everything = listed(viewer, "")
    assert "Printing upgrade" in everything and "Moodle failing on deadline night" in everything
