"""The public status page in headless Chromium, as a student on a phone and an accessibility check see it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from servicepulse.dashboard.management.commands.screenshots import CHROMIUM_ARGS
from servicepulse.status.models import Impact
from servicepulse.status.services import maintenance_schedule, public_incident_open
from tests.dashboard.browser import BROWSER_MARKS, CHROMIUM
from tests.factories import ServiceFactory

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]


@contextmanager
def phone(monkeypatch: Any, width: int = 320) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop lives in this thread
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


def _a_component_in_each_state() -> None:
    for order, sid in enumerate(["ok", "slow", "part", "down", "work"]):
        ServiceFactory(id=sid, name=f"Service {sid}", order=order)
    for sid, impact in [
        ("slow", Impact.DEGRADED),
        ("part", Impact.PARTIAL_OUTAGE),
        ("down", Impact.MAJOR_OUTAGE),
    ]:
        public_incident_open(
            title=f"{sid} trouble", service_ids=[sid], impact=impact, body="Looking into it."
        )
    now = timezone.now()
    maintenance_schedule(
        title="Upgrade",
        service_ids=["work"],
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
    )


# Today's bar of each component (the last of its 90): its height and whether it is drawn with a pattern.
TODAY_BARS = """() => Object.fromEntries([...document.querySelectorAll('ol.days')].map(ol => {
    const bar = ol.lastElementChild, style = getComputedStyle(bar);
    return [bar.className, [Math.round(bar.getBoundingClientRect().height), style.backgroundImage !== 'none']];
}))"""
SWATCHES = """() => Object.fromEntries([...document.querySelectorAll('.state-key .swatch')].map(s => [
    s.classList[1], [Math.round(s.getBoundingClientRect().height), getComputedStyle(s).backgroundImage !== 'none']
]))"""


def test_day_bars_differ_by_more_than_colour(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Green, amber, orange and red bars of about the same lightness: without full colour vision a week of
    # outages looked like a calm week. Each state now also has its own height (lower the worse) or pattern,
    # and the key under "Components" draws its swatches the same way.
    _a_component_in_each_state()
    with phone(monkeypatch) as page:
        page.goto(f"{live_server.url}/status/")
        bars = page.evaluate(TODAY_BARS)
        swatches = page.evaluate(SWATCHES)
    assert set(bars) == {"operational", "degraded", "partial_outage", "major_outage", "maintenance"}
    drawn = {tuple(look) for look in bars.values()}
    assert len(drawn) == len(bars), bars  # no two states drawn alike but for their colour
    worse = ["operational", "degraded", "partial_outage", "major_outage"]
    for key in (bars, swatches):
        heights = [key[state][0] for state in worse]
        assert heights == sorted(set(heights), reverse=True), key  # the worse the day, the deeper the dip
        assert key["maintenance"][1] and not key["operational"][1], key  # planned work is dashed


def test_status_pages_pass_axe_and_fit_320_pixels(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    _a_component_in_each_state()
    problems = []
    with phone(monkeypatch) as page:
        for path in ("/status/", "/status/incidents/1/", "/status/subscribe/"):
            page.goto(f"{live_server.url}{path}")
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
            problems += [f"{path}: {v['id']}: {v['help']}" for v in results.response["violations"]]
            sideways = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if sideways > 0:
                problems.append(f"{path} scrolls sideways by {sideways}px at 320px")
    assert not problems, "\n".join(problems)


def test_subscribe_errors_are_announced_and_look_like_errors_on_a_phone(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A student's mistyped address ("student@uni" passes the browser's check, not the server's) came back as
    # two plain bullet points in the text's colour, one above the form and one under the box: nothing said the
    # subscription had not been made, and only the other error was in the alert a screen reader announces.
    # And the components' checkboxes were 13px rows of 24px: a thumb meant for Printing ticked Timetabling.
    for order, (sid, name) in enumerate([("vle", "Moodle VLE"), ("printing", "Printing")]):
        ServiceFactory(id=sid, name=name, order=order)
    with phone(monkeypatch, width=390) as page:
        page.goto(f"{live_server.url}/status/subscribe/")
        rows = page.evaluate(
            """() => [...document.querySelectorAll('.subscribe fieldset label')]
                .map(label => label.getBoundingClientRect().height)"""
        )
        assert rows and min(rows) >= 44, rows  # the label is the checkbox's target: a thumb's height
        page.get_by_label("E-mail address").fill("student@uni")
        page.get_by_role("button", name="Subscribe").click()
        alert = page.get_by_role("alert")
        alert.wait_for()
        said = alert.inner_text()
        assert "Not subscribed yet" in said, said
        assert "E-mail address: Enter a valid email address." in said, said
        assert "Choose at least one component" in said, said
        email = page.get_by_label("E-mail address")
        assert email.input_value() == "student@uni"  # what was typed is kept
        described = email.evaluate(
            "box => document.getElementById(box.getAttribute('aria-describedby')).textContent"
        )
        assert "Enter a valid email address." in described
        text, error = page.evaluate(
            """() => [getComputedStyle(document.body).color,
                      getComputedStyle(document.getElementById('id_email_error').firstElementChild).color]"""
        )
        assert error != text, (error, text)  # drawn in the error colour, not the text's
