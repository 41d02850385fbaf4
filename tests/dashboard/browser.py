"""Driving Debian's Chromium with Playwright in the dashboard's browser tests: where it is, the marks that skip
(saying why) without it, and page helpers. The `browser` and `page` fixtures are in conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from servicepulse.dashboard.management.commands.screenshots import CHROMIUM as SCREENSHOT_CHROMIUM

CHROMIUM = Path(SCREENSHOT_CHROMIUM)

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium not installed at /usr/bin/chromium (make browser-deps)"
    ),
]


@contextmanager
def phone(browser: Any, width: int, height: int) -> Iterator[Any]:
    """A page in a phone-sized window of its own."""
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        yield context.new_page()
    finally:
        context.close()


def sideways_scroll(page: Any) -> int:
    """How many pixels the page scrolls sideways (0 when it fits the window)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def sign_in(page: Any, base: str, username: str, password: str = "pw") -> None:  # noqa: S107 - test users
    page.goto(f"{base}/accounts/login/?next=/")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
