"""A planned maintenance window's incident page reads as planned work, not as a detected problem."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.dateformat import format as date_format

from servicepulse.incidents.models import Incident
from servicepulse.incidents.services import maintenance_schedule


def _text(html: str) -> str:
    """The page's words without its tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _human(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "D d M Y H:i")


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
    assert comment == "planned from Sat 04 Jul 2026 07:00 to Sat 04 Jul 2026 09:00"


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
