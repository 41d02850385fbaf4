"""The public status page as a student reads it: what each state means, and messages written as sentences."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import feedparser
import pytest
from django.test import Client
from freezegun import freeze_time

from servicepulse.status.models import ComponentState, Impact
from servicepulse.status.services import maintenance_schedule, public_incident_open
from tests.factories import ServiceFactory
from tests.status.helpers import EVE_OF_CLOCK_CHANGE, overnight_upgrade

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


class _HiddenText(HTMLParser):
    """The text of a page that assistive technology is told to skip (inside an `aria-hidden="true"` element)."""

    VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "source", "wbr", "col", "area", "base"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.hidden: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        inherited = bool(self.stack) and self.stack[-1]
        self.stack.append(inherited or dict(attrs).get("aria-hidden") == "true")

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] and data.strip():
            self.hidden.append(data.strip())


def test_screen_readers_hear_each_components_uptime(client: Client) -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    html = client.get("/status/").content.decode()
    assert "% of days without incident over" in html
    parser = _HiddenText()
    parser.feed(html)
    # The figure under the bars was inside an aria-hidden legend: shown to sighted readers, never read out.
    assert not [text for text in parser.hidden if "days without incident" in text], parser.hidden
    assert (
        "90 days ago" in parser.hidden and "Today" in parser.hidden
    )  # the axis ends; the list's label says it


def test_maintenance_across_a_clock_change_names_both_time_zones(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TIME_ZONE = "Europe/London"
    ServiceFactory(id="vle", name="Moodle VLE")
    # Overnight work across the end of British Summer Time (01:00 UTC, 25 October 2026): 00:30 BST to 02:30 GMT.
    # With the zone printed only after the end, the start read as 00:30 GMT, an hour later than planned.
    with freeze_time(EVE_OF_CLOCK_CHANGE):
        window = overnight_upgrade()
        for url in ("/status/", f"/status/maintenance/{window.pk}/"):
            html = client.get(url).content.decode()
            assert "25 Oct 2026, 00:30 BST</time> \u2013" in html, url  # an en dash to the end
            assert "25 Oct 2026, 02:30 GMT</time>" in html, url
        # The Atom feed had the same fault ("25 Oct 2026 00:30 - 25 Oct 2026 02:30 GMT").
        entry = feedparser.parse(client.get("/status/feed/").content).entries[0]
        assert "25 Oct 2026, 00:30 BST \u2013 25 Oct 2026, 02:30 GMT" in entry.summary


def test_a_window_in_the_hour_the_clocks_repeat_names_both_zones(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    """An hour's work in the repeated hour of 25 October 2026 (the clocks go back at 02:00 BST): it starts at
    01:30 BST and ends at 01:30 GMT. Django's "T" leaves the zone out in that hour, so the maintenance page,
    the Atom feed and the subscribers' e-mail read "25 Oct 2026, 01:30 to 25 Oct 2026, 01:30", a window of no
    time at all. Not under freeze_time: freezegun's datetimes lose the fold that tells the two 01:30s apart."""
    from django.core import mail
    from django.utils import timezone

    from servicepulse.status.models import Subscription
    from servicepulse.status.services import subscribers_notify

    settings.TIME_ZONE = "Europe/London"
    ServiceFactory(id="vle", name="Moodle VLE")
    Subscription.objects.create(email="cy@example.ac.uk", service_id="vle", confirmed_at=timezone.now())
    window = maintenance_schedule(
        title="Moodle database failover",
        service_ids=["vle"],
        starts_at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST
        ends_at=datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT, an hour later
    )
    starts, ends = "25 Oct 2026, 01:30 BST", "25 Oct 2026, 01:30 GMT"
    html = client.get(f"/status/maintenance/{window.pk}/").content.decode()
    assert f"{starts}</time> \u2013" in html and f"{ends}</time>" in html
    entry = feedparser.parse(client.get("/status/feed/").content).entries[0]
    assert f"{starts} \u2013 {ends}" in entry.summary
    mail.outbox.clear()
    assert subscribers_notify(key=f"maintenance:{window.pk}") == 1
    assert f"From {starts} to {ends}" in mail.outbox[0].body


def test_a_page_without_components_does_not_say_all_is_well(client: Client) -> None:
    html = client.get("/status/").content.decode()
    assert "All systems operational" not in html
    assert "No services are listed on this status page yet" in html
    assert client.get("/status/summary.json").json()["status"] == {
        "indicator": "none",
        "description": "No services are listed on this status page yet",
    }
    ServiceFactory(id="vle", name="Moodle VLE", order=1)
    assert "All systems operational" in client.get("/status/").content.decode()
