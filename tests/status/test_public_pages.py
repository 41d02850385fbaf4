"""The public status page as a student reads it: what each state means, and messages written as sentences."""

from __future__ import annotations

import pytest
from django.test import Client

from servicepulse.status.models import ComponentState, Impact
from servicepulse.status.services import public_incident_open
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_page_says_what_each_state_means(client: Client) -> None:
    ServiceFactory(id="vle", name="Moodle VLE", order=1)
    public_incident_open(
        title="Moodle is slow", service_ids=["vle"], impact=Impact.DEGRADED, body="Pages load slowly."
    )
    html = client.get("/status/").content.decode()
    # The component shows "Degraded performance": a student can read what that means on the page itself.
    assert "<strong>Degraded performance</strong>: working, but slower or less reliable than usual." in html
    for state in ComponentState:
        assert (
            f'<span class="swatch {state.value}" aria-hidden="true"></span><strong>{state.label}</strong>: '
            in html
        )


def test_a_link_that_does_not_work_is_explained_in_a_sentence(client: Client) -> None:
    response = client.post("/status/unsubscribe/not-a-token/")
    assert response.status_code == 400
    assert "<p>This unsubscribe link is not valid</p>" in response.content.decode()


def test_a_quiet_fortnight_says_so(client: Client) -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    html = client.get("/status/").content.decode()
    # A student looking for past incidents learns there were none, rather than finding no such section.
    assert "Past incidents (last 14 days)" in html
    assert "No incidents were resolved in the last 14 days." in html


def test_subscribe_field_offers_the_phones_saved_address(client: Client) -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    for url in ("/status/", "/status/subscribe/"):
        html = client.get(url).content.decode()
        assert 'type="email" name="email" autocomplete="email"' in html, url
