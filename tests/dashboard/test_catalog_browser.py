"""Removing in a real browser (no script: CSP allows none inline): the catalogue's and the sources page's
"Remove…" open a confirmation page, and only its own button removes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.browser import BROWSER_MARKS, sign_in

pytestmark = BROWSER_MARKS


@pytest.mark.django_db(transaction=True)
def test_remove_a_service_after_confirming_and_keep_one_with_history(
    live_server: Any,
    world: dict[str, Any],
    users: Any,
    page: Any,
) -> None:
    from playwright.sync_api import expect

    from servicepulse.catalog.models import Service
    from tests.factories import ServiceFactory

    ServiceFactory(id="test-entry", name="Test entry")
    sign_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/catalog/")
    page.get_by_role("button", name="Remove… Moodle VLE").click()
    page.wait_for_url("**/catalog/vle/delete/**")
    expect(page.get_by_text("Moodle VLE cannot be removed: it has history.")).to_be_visible()
    expect(page.get_by_role("button", name="Remove Moodle VLE")).to_have_count(0)
    page.get_by_role("link", name="Edit Moodle VLE").click()
    page.wait_for_url("**/catalog/vle/")

    page.goto(f"{live_server.url}/catalog/")
    page.get_by_role("button", name="Remove… Test entry").click()
    page.wait_for_url("**/catalog/test-entry/delete/**")
    assert Service.objects.filter(id="test-entry").exists()
    page.get_by_role("button", name="Remove Test entry").click()
    page.wait_for_url(f"{live_server.url}/catalog/")
    expect(page.get_by_text("Removed Test entry from the catalogue.")).to_be_visible()
    assert not Service.objects.filter(id="test-entry").exists()
    assert Service.objects.filter(id="vle").exists()


@pytest.mark.django_db(transaction=True)
def test_remove_a_source_after_confirming_or_pause_it_instead(
    live_server: Any,
    world: dict[str, Any],
    users: Any,
    page: Any,
) -> None:
    from playwright.sync_api import expect

    from servicepulse.sources.models import Source

    reddit = world["sources"][0]
    reddit.enabled = True
    reddit.save()
    sign_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/sources/")
    page.get_by_role("button", name="Remove… r/northgate").click()
    page.wait_for_url(f"**/sources/{reddit.pk}/remove/**")
    expect(page.get_by_text("15 posts")).to_be_visible()
    page.get_by_role("button", name="Pause r/northgate instead").click()
    page.wait_for_url(f"{live_server.url}/sources/")
    expect(page.get_by_text("Paused r/northgate.")).to_be_visible()
    reddit.refresh_from_db()
    assert not reddit.enabled and reddit.mentions.count() == 15

    page.get_by_role("button", name="Remove… r/northgate").click()
    page.get_by_role("button", name="Remove r/northgate and delete its posts").click()
    page.wait_for_url(f"{live_server.url}/sources/")
    expect(page.get_by_text("Removed source r/northgate and its 15 posts.")).to_be_visible()
    assert not Source.objects.filter(pk=reddit.pk).exists()
