"""The explorer in a real browser: relabelling from filtered results (filtered in place by htmx) comes back to
the same filters and results; services are relabelled from the catalogue's list."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.browser import BROWSER_MARKS, phone, sign_in

pytestmark = BROWSER_MARKS


@pytest.mark.django_db(transaction=True)
def test_relabel_keeps_the_filters_and_services_come_from_a_list(
    live_server: Any,
    world: dict[str, Any],
    users: Any,
    page: Any,
) -> None:
    from playwright.sync_api import expect

    from servicepulse.analysis.selectors import analysis_for_mentions

    sign_in(page, live_server.url, "responder")
    page.goto(f"{live_server.url}/mentions/")
    page.locator("#id_service").select_option("wifi")
    page.wait_for_url("**service=wifi**")
    page.locator("#id_complaint").select_option("yes")
    page.wait_for_url("**complaint=yes**")
    rows = page.locator("table.mentions tbody tr")
    expect(rows).to_have_count(6)  # htmx swapped the filtered results in

    rows.first.locator("input[type=checkbox]").check()
    # Only the chosen label's list shows: an analyst picks the value, never types it.
    expect(page.locator("#relabel_complaint")).to_be_visible()
    expect(page.locator("#relabel_sentiment")).to_be_hidden()
    page.locator("#relabel_field").select_option("sentiment")
    expect(page.locator("#relabel_sentiment")).to_be_visible()
    expect(page.locator("#relabel_complaint")).to_be_hidden()
    expect(page.locator("#relabel_services")).to_be_hidden()
    page.locator("#relabel_sentiment").select_option("neutral")
    page.get_by_role("button", name="Relabel selected").click()
    expect(page.get_by_text("Relabelled 1 post")).to_be_visible()
    assert "service=wifi" in page.url and "complaint=yes" in page.url
    expect(page.locator("#id_service")).to_have_value("wifi")
    expect(page.locator("#id_complaint")).to_have_value("yes")
    expect(rows).to_have_count(6)

    post_id = int(rows.first.locator("input[type=checkbox]").get_attribute("value"))
    rows.first.locator("input[type=checkbox]").check()
    page.locator("#relabel_field").select_option("services")
    expect(page.locator("#relabel_sentiment")).to_be_hidden()
    page.locator("#relabel_services").select_option(label=["Wi-Fi and eduroam", "Library systems"])
    page.get_by_role("button", name="Relabel selected").click()
    expect(page.get_by_text("Relabelled 1 post")).to_be_visible()
    assert "service=wifi" in page.url
    assert analysis_for_mentions(mention_ids=[post_id])[post_id].service_ids == ["wifi", "library"]


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_each_post_still_says_how_it_was_read_and_its_box_is_thumb_sized(
    live_server: Any, world: dict[str, Any], users: Any, browser: Any
) -> None:
    with phone(browser, 375, 812) as page:
        sign_in(page, live_server.url, "responder")
        page.goto(f"{live_server.url}/mentions/?q=followers")
        row = page.locator("table.mentions tbody tr").first
        # The complaint, sentiment and spam columns are hidden at this width (no room): the reading went with
        # them, so a post marked spam looked like any other.
        assert row.locator("td:visible").count() == 3
        reading = row.locator(".reading-narrow")
        assert reading.is_visible() and reading.inner_text().split() == [
            "not",
            "a",
            "complaint",
            "neutral",
            "spam",
        ]
        box = row.locator("input[type=checkbox]").bounding_box()
        assert box is not None and box["width"] >= 24 and box["height"] >= 24
        page.goto(f"{live_server.url}/mentions/?q=eduroam")
        reading = page.locator("table.mentions tbody tr").first.locator(".reading-narrow")
        assert reading.inner_text().split() == ["complaint", "negative"]
    with phone(browser, 1280, 900) as page:  # the columns say it: not twice
        sign_in(page, live_server.url, "responder")
        page.goto(f"{live_server.url}/mentions/?q=followers")
        assert page.locator(".reading-narrow").first.is_hidden()
