"""`servicepulse screenshots`: capture the main pages of a running servicepulse for the docs.

Drives Debian's Chromium through Playwright against --base-url (e.g. a `servicepulse run` with the demo),
signs in, and saves PNGs of the board, a service page, an incident, the mentions explorer and the public
status page (and the board at phone width) into --output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class Command(BaseCommand):
    needs_migrated_database = False  # it drives a running servicepulse over HTTP
    help = "Capture screenshots of the main pages of a running servicepulse (needs Chromium)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="the running servicepulse (default %(default)s)",
        )
        parser.add_argument(
            "--output", default="docs/screenshots", help="directory for the PNGs (default %(default)s)"
        )
        parser.add_argument("--username", default="admin", help="who signs in (default: the demo's admin)")
        parser.add_argument("--password", default="demo-admin", help="their password (default: the demo's)")
        parser.add_argument("--service", default="vle", help="service id for the service and incident pages")

    def handle(self, *args: Any, **options: Any) -> None:
        if not Path(CHROMIUM).exists():
            raise CommandError(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
        from playwright.sync_api import Error as BrowserError

        base = options["base_url"].rstrip("/")
        out = Path(options["output"])
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"cannot write to {out}: {exc.strerror}") from None
        try:
            self._capture(base, out, options)
        except BrowserError as exc:  # nothing listening at --base-url, a page that never loads...
            detail = (exc.message.strip().splitlines() or ["no detail"])[0]
            raise CommandError(f"{detail} (is servicepulse running at {base}?)") from None

    def _capture(self, base: str, out: Path, options: dict[str, Any]) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.get_by_label("Username or e-mail").fill(options["username"])
            page.get_by_label("Password").fill(options["password"])
            page.get_by_role("button", name="Sign in").click()
            try:
                page.wait_for_url(lambda url: "/accounts/login/" not in url, timeout=15_000)
            except Exception as exc:
                raise CommandError(f"could not sign in as {options['username']} at {base}") from exc
            shots = [
                ("board", "/"),
                ("service", f"/services/{options['service']}/"),
                ("incidents", "/incidents/"),
                ("explorer", "/mentions/"),
                ("status", "/status/"),
            ]
            for name, path in shots:
                self._shot(page, f"{base}{path}", out / f"{name}.png")
            page.goto(f"{base}/incidents/?service={options['service']}")
            link = page.locator("table a[href^='/incidents/']").first
            if link.count():
                link.click()
                page.wait_for_load_state("networkidle")
                self._save(page, out / "incident.png")
                self.stdout.write(f"saved {out / 'incident.png'}")
            else:
                self.stderr.write("no incident to capture")
            phone = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2)
            phone_page = phone.new_page()
            phone_page.context.add_cookies(context.cookies())  # type: ignore[arg-type]  # same dict shape
            self._shot(phone_page, f"{base}/", out / "board-phone.png")
            browser.close()

    def _shot(self, page: Any, url: str, path: Path) -> None:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        self._save(page, path)

    def _save(self, page: Any, path: Path, max_height: int = 1800) -> None:
        """The whole page, cut at `max_height` so long lists stay readable in the docs."""
        width, height = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        )
        page.screenshot(
            path=str(path),
            full_page=True,
            clip={"x": 0, "y": 0, "width": width, "height": min(height, max_height)},
        )
        self.stdout.write(f"saved {path}")
