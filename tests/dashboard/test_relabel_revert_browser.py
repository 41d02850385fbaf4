"""Putting a corrected label back in a real browser: the button sits inside the relabel form (forms cannot
nest), so the browser must post it to the revert address from results htmx swapped in, not relabel the ticked
posts, and come back to the same filters."""

from __future__ import annotations

from typing import Any

import pytest

from servicepulse.analysis.models import Correction, MentionAnalysis
from tests.dashboard.browser import BROWSER_MARKS, sign_in

pytestmark = BROWSER_MARKS


@pytest.mark.django_db(transaction=True)
def test_the_put_back_button_works_in_a_browser_from_filtered_results(
    live_server: Any, world: dict[str, Any], users: Any, page: Any
) -> None:
    from playwright.sync_api import expect

    from servicepulse.analysis.services import correction_create

    post = world["mentions"][0]
    correction_create(mention=post, field="spam", value=True, user=users["responder"])
    sign_in(page, live_server.url, "responder")
    page.goto(f"{live_server.url}/mentions/")
    page.locator("#id_spam").select_option("yes")
    page.wait_for_url("**spam=yes**")
    page.locator(f"#m{post.pk}").check()  # ticked for a relabel: the put-back button must not relabel it
    page.get_by_role("button", name="Put back servicepulse's reading for spam").click()
    expect(page.get_by_text("Put the post's spam back to servicepulse's reading.")).to_be_visible()
    assert "spam=yes" in page.url
    analysis = MentionAnalysis.objects.get(mention=post)
    assert (analysis.spam, analysis.corrected) == (False, [])
    assert Correction.objects.count() == 1
