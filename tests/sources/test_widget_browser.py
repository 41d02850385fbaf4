"""The report-a-problem widget as a student meets it: pasted into a university page on another origin, used in
headless Chromium with a keyboard, on a host page with a strict Content-Security-Policy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from servicepulse.mentions.models import Mention
from servicepulse.sources.services import source_create
from tests.factories import ServiceFactory
from tests.replay import ReplayServer, Reply

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium not installed at /usr/bin/chromium (make browser-deps)"
    ),
    pytest.mark.django_db(transaction=True),
]


def host_page(script_url: str, *, html_attrs: str = 'lang="en"') -> str:
    """A university page with the snippet the source page gives pasted in, and a link after it."""
    return (
        f"<!doctype html><html {html_attrs}><head>"
        '<meta charset="utf-8"><title>Student portal</title></head>'
        '<body><main><h1>Student portal</h1><div id="servicepulse-report"></div>'
        f'<script src="{script_url}" async></script>'
        '<p><a href="#timetable">Timetable</a></p></main></body></html>'
    )


@contextmanager
def portal(
    live_server: Any,
    monkeypatch: Any,
    *,
    headers: dict[str, str] | None = None,
    html_attrs: str = 'lang="en"',
    send: str = "Send report",
    **options: Any,
) -> Iterator[Any]:
    """A Playwright page showing the host page (another origin) with the widget loaded."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop lives in this thread
    ServiceFactory(id="vle", name="Moodle VLE", order=1)
    ServiceFactory(id="wifi", name="Wi-Fi (eduroam)", order=2)
    with ReplayServer() as host:
        source_create(kind="widget", name="portal", options={"allowed_origins": host.url, **options})
        html = host_page(f"{live_server.url}/sources/widget/portal/embed.js", html_attrs=html_attrs)
        host.add(
            "GET", "/", Reply(200, {"Content-Type": "text/html; charset=utf-8", **(headers or {})}, html)
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 375, "height": 800})
                page.set_default_timeout(15_000)
                page.goto(host.url + "/")
                page.get_by_role("button", name=send).wait_for()
                yield page
            finally:
                browser.close()


def test_honeypot_stays_hidden_under_a_strict_content_security_policy(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The portal allows our script and our endpoints but no inline styles: the hidden field must stay out of
    # sight, or a student types in it and their report is dropped as a bot's.
    csp = f"default-src 'self'; script-src {live_server.url}; connect-src {live_server.url}; style-src 'self'"
    with portal(live_server, monkeypatch, headers={"Content-Security-Policy": csp}) as page:
        trap = page.locator("input[name=website]").locator("..").bounding_box()
        assert trap is not None and trap["width"] <= 1 and trap["height"] <= 1, trap
        page.get_by_label("Which service?").select_option(label="Moodle VLE")
        page.get_by_label("Not working").check()
        page.get_by_role("button", name="Send report").click()
        page.get_by_role("status").filter(has_text="Thanks").wait_for()
    assert Mention.objects.get().raw["service_id"] == "vle"


def test_keyboard_only_report_keeps_focus_on_the_form(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with portal(live_server, monkeypatch) as page:
        service = page.get_by_label("Which service?")
        service.focus()
        page.keyboard.press("ArrowDown")  # the first service
        page.keyboard.press("Tab")
        page.keyboard.press("Space")  # "Not working"
        page.keyboard.press("Tab")
        page.keyboard.type("Ne fonctionne pas — 登录失败")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.get_by_role("status").filter(has_text="Thanks").wait_for()
        # Focus stays on the button while the report goes and after, so the next Tab leads on through the page
        # rather than back to its top.
        assert page.evaluate("document.activeElement.textContent") == "Send report"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Timetable"
    assert Mention.objects.get().raw["comment"] == "Ne fonctionne pas — 登录失败"


def test_double_send_is_one_report_and_the_rate_limit_message_is_a_sentence(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with portal(live_server, monkeypatch, rate_limit_per_hour=2) as page:  # loading the form uses none
        send = page.get_by_role("button", name="Send report")
        status = page.get_by_role("status")
        page.get_by_label("Which service?").select_option(label="Moodle VLE")
        page.get_by_label("Slow").check()
        send.dblclick()
        status.filter(has_text="Thanks").wait_for()
        page.get_by_label("Which service?").select_option(label="Wi-Fi (eduroam)")
        with page.expect_response("**/reports/"):
            send.click()  # the second report this hour: the double click sent only one
        status.filter(has_text="Thanks").wait_for()
        page.get_by_label("Slow").check()
        with page.expect_response("**/reports/") as refused:
            send.click()
        assert refused.value.status == 429
        status.filter(has_text="Too many").wait_for()
        assert status.inner_text() == "Too many reports from this address; try again later."
    assert Mention.objects.count() == 2


def test_a_right_to_left_host_page_does_not_scroll_sideways(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # An Arabic university's portal: the hidden field once sat 10,000px to the left, which such a page scrolls to.
    with portal(live_server, monkeypatch, html_attrs='lang="ar" dir="rtl"') as page:
        assert (
            page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") == 0
        )


def test_a_long_service_name_does_not_widen_the_host_page_on_a_phone(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ServiceFactory(
        id="turnitin", name="Assignment submission and plagiarism checking (Turnitin) for research"
    )
    with portal(live_server, monkeypatch) as page:
        assert page.get_by_label("Which service?").locator("option").count() == 4
        scroll = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        assert page.evaluate(scroll) == 0


def test_comment_box_says_its_limit_and_writes_arabic_right_to_left(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with portal(live_server, monkeypatch) as page:
        comment = page.get_by_label("Anything else we should know? (optional)")
        hint = comment.evaluate(
            "box => document.getElementById(box.getAttribute('aria-describedby')).textContent"
        )
        assert hint.strip() == "Up to 500 characters."
        comment.fill("لا أستطيع تسجيل الدخول إلى مودل")
        assert comment.evaluate("box => getComputedStyle(box).direction") == "rtl"


def test_a_form_that_cannot_load_says_why(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A campus behind one address has loaded the form its ten-times budget this hour: the server answers 429
    # with a reason (and CORS, so the page may read it). The page said only "unavailable right now", which
    # reads as broken for good; the reason tells the student to come back later.
    with portal(live_server, monkeypatch, rate_limit_per_hour=1) as page:  # 10 loads an hour; this was one
        for _ in range(9):
            page.reload()
            page.get_by_role("button", name="Send report").wait_for()
        with page.expect_response("**/session/") as refused:
            page.reload()
        assert refused.value.status == 429
        note = page.locator("#servicepulse-report")
        note.filter(has_text="unavailable").wait_for()
        assert note.inner_text() == (
            "The problem report form is unavailable right now. "
            "Too many requests from this address; try again later."
        )


def _requests(page: Any, method: str, path: str) -> list[str]:
    """The URLs of the page's requests with this method whose path ends with `path`, in order."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.method == method and r.url.endswith(path) else None)
    return seen


def test_an_expired_form_renews_its_token_and_sends_the_report(live_server, monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    # The page was left open while the server's SECRET_KEY was rotated: the token the form holds no longer
    # verifies. The student used to be told to reload, losing what they typed; the form now fetches a token
    # as the page load does and sends the same report again.
    with portal(live_server, monkeypatch) as page:
        reports, sessions = _requests(page, "POST", "/reports/"), _requests(page, "GET", "/session/")
        page.get_by_label("Which service?").select_option(label="Moodle VLE")
        page.get_by_label("Not working").check()
        page.get_by_label("Anything else we should know? (optional)").fill("Kan ikke logge inn")
        settings.SECRET_KEY = (
            "rotated-" + settings.SECRET_KEY
        )  # the live server thread reads the same settings
        page.get_by_role("button", name="Send report").click()
        page.get_by_role("status").filter(has_text="Thanks").wait_for()
        assert (len(reports), len(sessions)) == (2, 1)
        stored = page.evaluate("Object.values(localStorage)")
    mention = Mention.objects.get()
    assert mention.raw["comment"] == "Kan ikke logge inn"
    assert mention.raw["service_id"] == "vle"
    assert len(stored) == 1 and stored[0] and settings.SECRET_KEY.startswith("rotated-")


def test_an_expired_form_tries_once_more_and_keeps_what_was_typed(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Every report this page sends carries a token the server cannot verify (the request leaves the browser
    # with it replaced, so the real server answers its real 403). The form renews once, sends once more, and
    # on the second refusal says so and keeps the comment; it never loops.
    def forge(route: Any) -> None:
        request = route.request
        if request.method == "POST":
            body = request.post_data_json
            route.continue_(post_data=json.dumps({**body, "token": "no-longer-valid"}))
        else:
            route.continue_()

    with portal(live_server, monkeypatch) as page:
        reports, sessions = _requests(page, "POST", "/reports/"), _requests(page, "GET", "/session/")
        page.route("**/reports/", forge)
        comment = page.get_by_label("Anything else we should know? (optional)")
        page.get_by_label("Which service?").select_option(label="Wi-Fi (eduroam)")
        page.get_by_label("Slow").check()
        comment.fill("eduroam drops every few minutes in the library")
        page.get_by_role("button", name="Send report").click()
        status = page.get_by_role("status")
        status.filter(has_text="expired").wait_for()
        page.wait_for_timeout(500)  # room for a third attempt, were there one
        assert (len(reports), len(sessions)) == (2, 1)
        assert status.inner_text() == "This form has expired; reload the page and try again."
        assert comment.input_value() == "eduroam drops every few minutes in the library"
        assert page.get_by_role("button", name="Send report").get_attribute("aria-disabled") is None
    assert not Mention.objects.exists()


def test_the_comment_box_counts_an_emoji_as_one_character(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The server allows 500 characters counted as code points; the box counted UTF-16 units and stopped a
    # student at 250 emoji.
    with portal(live_server, monkeypatch) as page:
        comment = page.get_by_label("Anything else we should know? (optional)")
        comment.focus()
        page.keyboard.insert_text("😡" * 499 + "a")
        assert comment.evaluate("box => Array.from(box.value).length") == 500
        page.keyboard.insert_text("😡b")  # past the limit: cut where it was typed, as maxlength would
        assert comment.input_value() == "😡" * 499 + "a"
        comment.evaluate("box => box.setSelectionRange(0, 0)")
        page.keyboard.insert_text("x")  # at the start, with the box full: the rest is kept, nothing is added
        assert comment.input_value() == "😡" * 499 + "a"
        page.get_by_label("Which service?").select_option(label="Moodle VLE")
        page.get_by_label("Something else").check()
        page.get_by_role("button", name="Send report").click()
        page.get_by_role("status").filter(has_text="Thanks").wait_for()
    assert Mention.objects.get().raw["comment"] == "😡" * 499 + "a"


def test_the_form_says_what_a_report_keeps_and_links_the_privacy_notice(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with portal(live_server, monkeypatch, privacy_url="https://www.example.ac.uk/privacy") as page:
        notice = page.locator(".sp-widget-notice")
        assert "not your IP address" in notice.inner_text()
        assert "until the IT team deletes it" in notice.inner_text()
        link = page.get_by_role("link", name="Privacy notice")
        assert link.get_attribute("href") == "https://www.example.ac.uk/privacy"


def test_each_problem_choice_stays_on_one_line_with_its_label_on_a_phone(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The choices ran on as one line of text that a 390px screen wrapped anywhere: "◯ Can't sign in ◯" ended
    # one line and "Something else" began the next, so the last circle read as Can't sign in's. Each choice
    # is now a line of its own, its circle beside its label (and a taller row to tap).
    with portal(live_server, monkeypatch) as page:
        page.set_viewport_size({"width": 390, "height": 844})
        rows = page.evaluate(
            """() => [...document.querySelectorAll('.sp-widget input[type=radio]')].map(radio => {
                const r = radio.getBoundingClientRect(), l = radio.labels[0].getBoundingClientRect();
                return [radio.labels[0].textContent, Math.round(r.top), Math.round(r.bottom),
                        Math.round(l.top), Math.round(l.bottom)];
            })"""
        )
    assert [row[0] for row in rows] == ["Not working", "Slow", "Can't sign in", "Something else"]
    for label, top, bottom, label_top, label_bottom in rows:
        assert label_top < bottom and top < label_bottom, (label, rows)  # the circle beside its own label
    tops = [row[1] for row in rows]
    assert tops == sorted(set(tops)), rows  # one choice a line


def test_a_welsh_form_speaks_welsh_to_the_student_and_to_their_screen_reader(
    live_server, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # A Welsh university's portal, itself in English: the form is in Welsh, marked lang="cy" so a screen reader
    # reads it with a Welsh voice, and every message it gives is Welsh; the report is stored as any other.
    with portal(
        live_server, monkeypatch, send="Anfon adroddiad", language="cy", rate_limit_per_hour=1
    ) as page:
        form = page.locator("form.sp-widget")
        assert form.get_attribute("lang") == "cy"
        assert page.get_by_role("heading", name="Rhoi gwybod am broblem").is_visible()
        labels = page.evaluate(
            "[...document.querySelectorAll('.sp-widget input[type=radio]')].map(r => r.labels[0].textContent)"
        )
        assert labels == ["Ddim yn gweithio", "Araf", "Methu mewngofnodi", "Rhywbeth arall"]
        send = page.get_by_role("button", name="Anfon adroddiad")
        status = page.get_by_role("status")
        send.click()
        assert status.inner_text() == "Dewiswch wasanaeth, os gwelwch yn dda."
        page.get_by_label("Pa wasanaeth?").select_option(label="Moodle VLE")
        send.click()
        assert status.inner_text() == "Dywedwch beth sydd o'i le, os gwelwch yn dda."
        page.get_by_label("Ddim yn gweithio").check()
        page.get_by_label("Unrhyw beth arall y dylem ei wybod? (dewisol)").fill(
            "Mae Moodle i lawr ers y bore"
        )
        send.click()
        status.filter(has_text="Diolch").wait_for()
        assert status.inner_text() == "Diolch — rydym wedi cael eich adroddiad."
        page.get_by_label("Pa wasanaeth?").select_option(label="Wi-Fi (eduroam)")
        with page.expect_response("**/reports/") as refused:
            send.click()
        assert refused.value.status == 429
        status.filter(has_text="Gormod").wait_for()
        assert status.inner_text() == (
            "Gormod o adroddiadau o'r cyfeiriad hwn; rhowch gynnig arall arni yn nes ymlaen."
        )
        # The server cannot be reached at all: the script's own sentence is Welsh too.
        page.route("**/session/", lambda route: route.abort())
        page.reload()
        note = page.locator("#servicepulse-report p")
        note.wait_for()
        assert note.inner_text() == "Nid yw'r ffurflen rhoi gwybod am broblem ar gael ar hyn o bryd."
        assert note.get_attribute("lang") == "cy"
    mention = Mention.objects.get()
    assert (mention.raw["service_id"], mention.raw["problem"]) == ("vle", "down")
    assert mention.raw["comment"] == "Mae Moodle i lawr ers y bore"


# Each piece of text under `selector` with the `lang` of the element it is read in, skipping blank ones.
LANGUAGES_OF = """selector => {
  const root = document.querySelector(selector);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.data.trim()) found.push([node.parentElement.closest("[lang]").getAttribute("lang"), node.data]);
  }
  return found;
}"""


def test_a_bilingual_form_marks_each_half_with_its_own_language(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # WCAG 2.2, 3.1.2 Language of Parts: the form is Welsh (lang="cy"), and every English half it shows is in
    # an element of its own with lang="en", so a screen reader reads it with an English voice, not a Welsh one.
    with portal(
        live_server, monkeypatch, send="Anfon adroddiad / Send report", language="both", rate_limit_per_hour=1
    ) as page:
        assert page.locator("form.sp-widget").get_attribute("lang") == "cy"
        assert page.evaluate(LANGUAGES_OF, ".sp-widget h2") == [
            ["cy", "Rhoi gwybod am broblem"],
            ["cy", " / "],
            ["en", "Report a problem"],
        ]
        assert page.get_by_role("heading", name="Rhoi gwybod am broblem / Report a problem").is_visible()
        down = page.get_by_label("Ddim yn gweithio / Not working")  # the label names the radio as before
        label = f".sp-widget label[for='{down.get_attribute('id')}']"
        assert page.evaluate(LANGUAGES_OF, label) == [
            ["cy", "Ddim yn gweithio"],
            ["cy", " / "],
            ["en", "Not working"],
        ]
        assert page.evaluate(LANGUAGES_OF, ".sp-widget button") == [
            ["cy", "Anfon adroddiad"],
            ["cy", " / "],
            ["en", "Send report"],
        ]
        notice = page.evaluate(LANGUAGES_OF, ".sp-widget-notice")
        assert [lang for lang, _ in notice] == ["cy", "cy", "en"]
        assert notice[2][1].startswith("A report keeps the service")
        page.get_by_label("Pa wasanaeth? / Which service?").select_option(label="Moodle VLE")
        down.check()
        status = page.get_by_role("status")
        page.get_by_role("button", name="Anfon adroddiad / Send report").click()
        status.filter(has_text="Thanks").wait_for()
        assert page.evaluate(LANGUAGES_OF, ".sp-widget-status") == [
            ["cy", "Diolch — rydym wedi cael eich adroddiad."],
            ["cy", " / "],
            ["en", "Thanks, your report was received."],
        ]
        # A refusal the server returns (here the rate limit) is marked the same way.
        page.get_by_label("Pa wasanaeth? / Which service?").select_option(label="Wi-Fi (eduroam)")
        page.get_by_role("button", name="Anfon adroddiad / Send report").click()
        status.filter(has_text="Too many").wait_for()
        assert page.evaluate(LANGUAGES_OF, ".sp-widget-status") == [
            ["cy", "Gormod o adroddiadau o'r cyfeiriad hwn; rhowch gynnig arall arni yn nes ymlaen."],
            ["cy", " / "],
            ["en", "Too many reports from this address; try again later."],
        ]
        # The script's own sentence, when the server cannot be reached at all.
        page.route("**/session/", lambda route: route.abort())
        page.reload()
        page.locator("#servicepulse-report p").wait_for()
        assert page.evaluate(LANGUAGES_OF, "#servicepulse-report") == [
            ["cy", "Nid yw'r ffurflen rhoi gwybod am broblem ar gael ar hyn o bryd."],
            ["cy", " / "],
            ["en", "The problem report form is unavailable right now."],
        ]


def test_an_english_form_marks_no_part_with_another_language(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # One language, the form's: nothing inside it carries a lang of its own, before or after a report.
    nested = "document.querySelectorAll('form.sp-widget [lang]').length"
    with portal(live_server, monkeypatch) as page:
        assert page.locator("form.sp-widget").get_attribute("lang") == "en"
        assert page.evaluate(nested) == 0
        page.get_by_label("Which service?").select_option(label="Moodle VLE")
        page.get_by_label("Not working").check()
        page.get_by_role("button", name="Send report").click()
        status = page.get_by_role("status")
        status.filter(has_text="Thanks").wait_for()
        assert status.inner_text() == "Thanks, your report was received."
        assert page.evaluate(nested) == 0
        page.route("**/session/", lambda route: route.abort())
        page.reload()
        note = page.locator("#servicepulse-report p")
        note.wait_for()
        assert note.get_attribute("lang") == "en"
        assert page.evaluate("document.querySelectorAll('#servicepulse-report p [lang]').length") == 0
