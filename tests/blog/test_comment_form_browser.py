"""The comment form as a student on a phone meets it in headless Chromium: a mistake, and what says so."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from servicepulse.dashboard.management.commands.screenshots import CHROMIUM_ARGS
from tests.dashboard.browser import BROWSER_MARKS, CHROMIUM

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]


@contextmanager
def phone(monkeypatch: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop lives in this thread
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


# What a screen reader reads as a box's description: the text of each element its aria-describedby names.
DESCRIPTION = """box => (box.getAttribute('aria-describedby') || '').split(' ')
    .map(id => document.getElementById(id)?.textContent || '').join(' ')"""


def test_a_comment_without_a_name_says_so_to_eye_and_screen_reader(
    live_server, make_post, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # Sent without a name or address, the form came back with "This field is required." twice, in the text's
    # colour beside each box, each its own alert (a screen reader heard the sentence twice, not which boxes),
    # and the boxes' aria-describedby named ids no element had. Nor could a phone fill in the name and address.
    post = make_post()
    with phone(monkeypatch) as page:
        page.goto(f"{live_server.url}{post.get_absolute_url()}")
        name, email = page.locator("#id_author_name"), page.locator("#id_author_email")
        assert name.get_attribute("autocomplete") == "name"
        assert email.get_attribute("autocomplete") == "email"
        assert page.locator("#id_author_url").get_attribute("autocomplete") == "url"
        page.locator("#id_body").fill("Is the library Wi-Fi fixed before exams?")
        page.get_by_role("button", name="Post comment").click()
        page.get_by_role("alert").wait_for()
        alerts = page.get_by_role("alert").all_inner_texts()
        assert len(alerts) == 1, alerts  # one announcement, naming the boxes
        assert "not posted yet" in alerts[0], alerts
        assert "Name: This field is required." in alerts[0], alerts
        assert "E-mail (not published): This field is required." in alerts[0], alerts
        assert page.locator("#id_body").input_value() == "Is the library Wi-Fi fixed before exams?"
        assert "This field is required." in name.evaluate(DESCRIPTION)
        assert "This field is required." in email.evaluate(DESCRIPTION)
        text, error = page.evaluate(
            """() => [getComputedStyle(document.body).color,
                      getComputedStyle(document.getElementById('id_author_name_error')).color]"""
        )
        assert error != text, (error, text)
        assert (
            page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") == 0
        )


def test_the_comment_box_fills_a_phones_width_and_the_labels_say_what_is_required(
    live_server, make_post, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # The comment box was 40 columns wide, narrower than the page on a phone; no label said which boxes had to be
    # filled in, nor that the website could be left empty.
    post = make_post()
    with phone(monkeypatch) as page:
        page.goto(f"{live_server.url}{post.get_absolute_url()}")
        form = page.locator("#respond form").evaluate("f => f.clientWidth")
        box = page.locator("#id_body").bounding_box()
        assert box is not None and box["width"] >= form - 1, (box, form)
        labels = {
            name: page.locator(f"label[for=id_{name}]").inner_text()
            for name in ("body", "author_name", "author_email", "author_url")
        }
        assert labels == {
            "body": "Comment *",
            "author_name": "Name *",
            "author_email": "E-mail (not published) *",
            "author_url": "Website (optional)",
        }, labels
        assert "Required fields are marked *." in page.locator("#respond").inner_text()
        # A screen reader hears "required" from the box itself (the star is hidden from it).
        assert page.locator("#id_author_name").get_attribute("required") is not None
        assert page.locator("#id_author_url").get_attribute("required") is None
