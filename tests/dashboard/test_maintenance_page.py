"""A planned maintenance window's incident page reads as planned work, not as a detected problem."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.core.times import local_time_text
from servicepulse.incidents.models import Incident
from servicepulse.incidents.services import maintenance_schedule


def _text(html: str) -> str:
    """The page's words without its tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _human(moment: datetime) -> str:
    return local_time_text(moment)


@pytest.mark.django_db
def test_a_maintenance_window_page_says_when_the_work_is_planned(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=2)
    window = maintenance_schedule(service_id="printing", title="Printing upgrade", start=start, end=end)

    response = clients["viewer"].get(f"/incidents/{window.pk}/")
    assert response.status_code == 200
    text = _text(response.content.decode())
    assert f"planned from {_human(start)} to {_human(end)}" in text
    assert "started" not in text  # it has not: it is in the future
    # Nothing was detected: no explanation block and no "0 people affected".
    assert "Why servicepulse raised it" not in text
    assert "No explanation recorded" not in text
    assert "People affected" not in text
    # The timeline words it as maintenance, with local human dates rather than an ISO timestamp.
    timeline = text[text.index("Timeline") :]
    assert "Problem detected" not in timeline
    assert f"Maintenance planned from {_human(start)} to {_human(end)}" in timeline
    assert not re.search(r"\d{4}-\d{2}-\d{2}", timeline)


@pytest.mark.django_db
def test_the_maintenance_activity_records_the_window_in_local_words(world: dict[str, Any]) -> None:
    start = datetime(2026, 7, 4, 6, 0, tzinfo=UTC)  # 07:00 in London, on summer time
    window = maintenance_schedule(
        service_id="printing", title="Printing upgrade", start=start, end=start + timedelta(hours=2)
    )
    comment = Incident.objects.get(pk=window.pk).activities.get().comment
    assert (
        comment == f"planned from {local_time_text(start)} to {local_time_text(start + timedelta(hours=2))}"
    )
    assert comment == "planned from 4 Jul 2026, 07:00 BST to 4 Jul 2026, 09:00 BST"


@pytest.mark.django_db
def test_a_maintenance_window_can_only_be_completed_not_turned_into_a_problem(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    start = timezone.now() - timedelta(minutes=30)
    window = maintenance_schedule(
        service_id="printing", title="Printing upgrade", start=start, end=start + timedelta(hours=2)
    )
    page = clients["responder"].get(f"/incidents/{window.pk}/").content.decode()
    options = re.findall(r'<option value="(\w+)"', page[page.index('name="state"') :])
    assert options == ["resolved"] and "Completed" in page
    # Posting a detection state by hand is refused; completing it works.
    before = Incident.objects.get(pk=window.pk).state
    clients["responder"].post(f"/incidents/{window.pk}/act/", {"action": "state", "state": "possible"})
    assert Incident.objects.get(pk=window.pk).state == before != "possible"
    clients["responder"].post(f"/incidents/{window.pk}/act/", {"action": "state", "state": "resolved"})
    assert Incident.objects.get(pk=window.pk).state == "resolved"


@pytest.mark.django_db
def test_a_window_ended_before_it_started_reads_as_cancelled_not_completed(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    start = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    window = maintenance_schedule(
        service_id="printing", title="Printing upgrade", start=start, end=start + timedelta(hours=2)
    )
    page = clients["responder"].get(f"/incidents/{window.pk}/").content.decode()
    options = re.findall(r'<option value="(\w+)">([^<]*)<', page[page.index('name="state"') :])
    assert options == [("resolved", "Cancelled (it has not started)")]

    response = clients["responder"].post(
        f"/incidents/{window.pk}/act/", {"action": "state", "state": "resolved"}, follow=True
    )
    text = _text(response.content.decode())
    # It read "Resolved", "resolved <now>" and "This maintenance window is completed": work done in no time.
    assert "Marked Cancelled (it has not started)." in text
    assert "Printing upgrade Cancelled Planned maintenance" in text
    assert "before it started" in text and "Resolved" not in text and "completed" not in text.lower()
    timeline = text[text.index("Timeline") :]
    assert "Cancelled State changed" in timeline
    assert "This maintenance window was cancelled before it started" in text

    listed = _text(clients["viewer"].get("/incidents/").content.decode())
    row = listed[listed.index("Printing upgrade") :]
    assert row.startswith("Printing upgrade Planned maintenance Printing Cancelled")
    assert "cancelled" in row[:200] and "resolved" not in row[:200]


@pytest.mark.django_db
def test_a_window_completed_once_under_way_still_reads_as_completed(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    start = timezone.now() - timedelta(minutes=30)
    window = maintenance_schedule(
        service_id="printing", title="Printing upgrade", start=start, end=start + timedelta(hours=2)
    )
    response = clients["responder"].post(
        f"/incidents/{window.pk}/act/", {"action": "state", "state": "resolved"}, follow=True
    )
    text = _text(response.content.decode())
    assert "Marked Completed." in text and "cancelled" not in text.lower()
    assert "This maintenance window is completed" in text
    assert "Completed State changed" in text[text.index("Timeline") :]


def _plan(client: Client, *, service: str, title: str, start: datetime, hours: int) -> Any:
    return client.post(
        "/incidents/open/",
        {
            "kind": "maintenance",
            "service": service,
            "title": title,
            "start": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
            "end": timezone.localtime(start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )


@pytest.mark.django_db
def test_planning_a_window_that_overlaps_another_warns_naming_it(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    start = timezone.localtime().replace(hour=6, minute=0, second=0, microsecond=0) + timedelta(days=2)
    responder = clients["responder"]
    _plan(responder, service="vle", title="Moodle upgrade", start=start, hours=3)
    # Another service, and a window after this one ends: no warning.
    other = _plan(responder, service="printing", title="Printer swap", start=start, hours=3)
    later = _plan(responder, service="vle", title="Moodle reindex", start=start + timedelta(hours=3), hours=1)
    for response in (other, later):
        assert "overlaps" not in _text(response.content.decode())

    response = _plan(
        responder, service="vle", title="Moodle database patch", start=start + timedelta(hours=1), hours=1
    )
    # Accepted, as the status page accepts overlaps, but it used to be silent: complaints then went to the later
    # window only and nobody knew why the first showed none.
    assert response.status_code == 200
    assert Incident.objects.filter(title="Moodle database patch", kind="maintenance").exists()
    text = _text(response.content.decode())
    assert "Opened “Moodle database patch”." in text
    began, ends = local_time_text(start), local_time_text(start + timedelta(hours=3))
    assert (
        f"It overlaps the maintenance window “Moodle upgrade” on Moodle VLE ({began} to {ends}). "
        "While both are open, complaints attach only to the one that started later." in text
    )
    assert "Moodle reindex" not in text and "Printer swap" not in text
