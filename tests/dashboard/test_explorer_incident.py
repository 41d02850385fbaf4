"""The mentions explorer shows exactly the posts attached to an incident (`?incident=<id>`), and the incident
page links there: it listed its posts, with no way to see, filter, relabel or download them in the explorer."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.incidents.models import Incident
from servicepulse.incidents.services import incident_attach_mentions, incident_create


def _attach(incident: Incident, posts: list[Any]) -> None:
    incident_attach_mentions(incident=incident, posts=[(p.pk, p.author_key) for p in posts])


@pytest.fixture
def incidents(world: dict[str, Any]) -> dict[str, Any]:
    mentions = world["mentions"]
    started = timezone.now()  # opened by hand now: nothing attached from before but what is attached here
    vle = incident_create(service_id="vle", title="Moodle down", started_at=started)
    wifi = incident_create(
        service_id="wifi", title="Moodle down", started_at=started
    )  # same title, elsewhere
    _attach(vle, [mentions[0], mentions[3], mentions[6]])
    _attach(wifi, [mentions[1], mentions[3]])  # one post attached to both
    return {
        "vle": vle,
        "wifi": wifi,
        "vle_posts": {mentions[i].pk for i in (0, 3, 6)},
        "vle_moodle_posts": {mentions[i].pk for i in (0, 3, 6) if "moodle" in mentions[i].text},
    }


def _ticked(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'name="mention_ids" value="(\d+)"', page)}


@pytest.mark.django_db
def test_the_explorer_shows_exactly_an_incidents_posts(
    incidents: dict[str, Any], clients: dict[str, Client]
) -> None:
    vle = incidents["vle"]
    incident_page = clients["viewer"].get(f"/incidents/{vle.pk}/").content.decode()
    link = f"/mentions/?incident={vle.pk}"
    assert f'<a href="{link}">See all 3 posts in Mentions</a>' in incident_page
    # Exactly its posts (30 in the world), newest first, whoever reads them.
    page = clients["responder"].get(link).content.decode()
    assert _ticked(page) == incidents["vle_posts"]
    assert "3 posts" in page
    # The filter says which incident: title, service and start (two incidents share the title).
    assert re.search(rf'<option value="{vle.pk}" selected>Moodle down — Moodle VLE, started ', page)
    viewer = clients["viewer"].get(link)
    assert viewer.status_code == 200 and "3 posts" in viewer.content.decode()
    # It combines with the other filters, and the download takes it too.
    assert len(incidents["vle_moodle_posts"]) == 1
    searched = clients["responder"].get(f"{link}&q=moodle").content.decode()
    assert _ticked(searched) == incidents["vle_moodle_posts"]
    export = clients["viewer"].get(f"/mentions/export.csv?incident={vle.pk}").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(export)))
    assert {int(r[0]) for r in rows[1:]} == incidents["vle_posts"]
    # Without it, the explorer is as before: every post, and no incident control.
    everything = clients["responder"].get("/mentions/").content.decode()
    assert 'name="incident"' not in everything and len(_ticked(everything)) == 30


@pytest.mark.django_db
def test_an_incident_that_is_not_there_matches_no_post(
    incidents: dict[str, Any], clients: dict[str, Client]
) -> None:
    for asked in ("999999", "abc", "99999999999999999999999", "²"):
        page = html.unescape(clients["responder"].get("/mentions/", {"incident": asked}).content.decode())
        assert _ticked(page) == set() and "No posts match." in page
        assert "there is no incident" in page and "Left out, as not valid" not in page


@pytest.mark.django_db
def test_the_incident_filter_keeps_the_explorers_roles(
    incidents: dict[str, Any], clients: dict[str, Client]
) -> None:
    link = f"/mentions/?incident={incidents['vle'].pk}"
    response = clients["anonymous"].get(link)
    assert response.status_code == 302 and "login" in response["Location"]
    # Viewers read, responders also relabel (the ticks): as on the explorer without the filter.
    assert _ticked(clients["viewer"].get(link).content.decode()) == set()
    assert _ticked(clients["responder"].get(link).content.decode()) == incidents["vle_posts"]
