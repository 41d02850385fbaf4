"""The weekly report page in a real browser (Playwright driving Debian's Chromium against a live server)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.browser import BROWSER_MARKS, phone, sideways_scroll, sign_in
from tests.dashboard.conftest import browser  # noqa: F401 - the module-scoped Chromium fixture

from .conftest import Week

pytestmark = BROWSER_MARKS


@pytest.mark.django_db(transaction=True)
def test_the_report_charts_stay_readable_on_a_phone(
    live_server: Any,
    week: Week,
    users: Any,
    browser: Any,  # noqa: F811 - the fixture imported above
) -> None:
    with phone(browser, 375, 740) as page:
        sign_in(page, live_server.url, "viewer")
        page.goto(f"{live_server.url}/experience/report/?week={week.label}")
        for title in ("Experience score by service", "Posts per day about IT services"):
            chart = page.locator(f"figure.chart svg[aria-label^='{title}']")
            natural = float(chart.get_attribute("width") or 0)
            shown = chart.bounding_box()["width"]
            # Shrunk to the 343px column, the score chart's 11px labels were drawn about 5px high.
            assert shown >= natural * 0.95, (title, shown, natural)
        assert sideways_scroll(page) == 0  # the chart scrolls in its own box, not the page
