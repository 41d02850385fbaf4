"""The signed-in pages in a real browser: Playwright driving Debian's Chromium against a live server.

Skipped, saying why, when /usr/bin/chromium is absent (`make browser-deps` installs it).
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.browser import BROWSER_MARKS, phone, sideways_scroll, sign_in

pytestmark = BROWSER_MARKS


@pytest.mark.django_db(transaction=True)
def test_sign_in_and_open_the_board_and_a_service(
    live_server: Any, world: dict[str, Any], users: Any, page: Any
) -> None:
    anonymous = page.goto(f"{live_server.url}/")
    assert anonymous is not None and "/accounts/login/" in page.url
    sign_in(page, live_server.url, "viewer")
    assert page.get_by_role("heading", name="Service board").is_visible()
    service = world["services"][0]
    page.get_by_role("link", name=service.name, exact=True).first.click()
    page.wait_for_url(f"{live_server.url}/services/{service.id}/")
    assert page.get_by_role("heading", name="Experience score").is_visible()
    assert page.locator("svg[role=img]").count() >= 1


@pytest.mark.django_db(transaction=True)
def test_keyboard_reaches_main_content_and_phone_width_has_no_sideways_scroll(
    live_server: Any, world: dict[str, Any], users: Any, browser: Any
) -> None:
    from servicepulse.engage.services import case_note_add, case_open

    # A long unbroken URL in a note ran 149px past a 375px screen (and a 4,000-character one 37,000px).
    long_url = "https://intranet.northgate.ac.uk/" + "a" * 240
    case_note_add(case=case_open(mention=world["mentions"][0]), actor=None, text=f"see {long_url}")
    with phone(browser, 360, 740) as page:
        sign_in(page, live_server.url, "responder")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        assert "Skip to content" in focused
        service = world["services"][0].id
        # The inbox's pages ran 197-411px wide at 390px before their tables scrolled on their own.
        for path in (
            "/",
            f"/services/{service}/",
            "/mentions/",
            "/incidents/",
            "/sources/",
            "/inbox/",
            "/inbox/?state=all",
            "/inbox/times/",
            "/inbox/saved/",
            f"/inbox/m/{world['mentions'][0].pk}/",
            "/status/manage/",
            "/experience/report/",
        ):
            page.goto(f"{live_server.url}{path}")
            overflow = sideways_scroll(page)
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at 360px"
    with phone(browser, 360, 740) as page:
        sign_in(page, live_server.url, "admin")
        for path in ("/catalog/", "/alerts/", "/blog/moderation/", "/blog/drafts/", "/publish/accounts/"):
            page.goto(f"{live_server.url}{path}")
            overflow = sideways_scroll(page)
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at 360px"


@pytest.mark.django_db(transaction=True)
def test_explorer_filters_in_place_and_relabel(
    live_server: Any, world: dict[str, Any], users: Any, page: Any
) -> None:
    from playwright.sync_api import expect

    sign_in(page, live_server.url, "responder")
    page.goto(f"{live_server.url}/mentions/")
    page.get_by_label("Search").fill("eduroam")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**q=eduroam**")
    rows = page.locator("table.mentions tbody tr")
    expect(rows).to_have_count(6)  # waits for htmx to swap the results in
    expect(rows.first).to_contain_text("eduroam")
    rows.first.locator("input[type=checkbox]").check()
    page.locator("#relabel_field").select_option("spam")
    page.locator("#relabel_spam").select_option("yes")
    page.get_by_role("button", name="Relabel selected").click()
    expect(page.get_by_text("Relabelled 1 post")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_open_an_incident(live_server: Any, world: dict[str, Any], users: Any, page: Any) -> None:
    from django.utils import timezone

    from servicepulse.incidents.models import IncidentKind
    from servicepulse.incidents.services import incident_attach_mentions, incident_create

    incident = incident_create(
        service_id=world["services"][0].id,
        title="Moodle failing",
        started_at=timezone.now() - timedelta(hours=1),
        kind=IncidentKind.DETECTED,  # one opened by hand has no "why": a person raised it
    )
    incident_attach_mentions(incident=incident, posts=[(m.pk, m.author_key) for m in world["mentions"][:2]])
    sign_in(page, live_server.url, "viewer")
    page.goto(f"{live_server.url}/incidents/")
    page.get_by_role("link", name=str(incident)).first.click()
    page.wait_for_url(f"{live_server.url}/incidents/{incident.pk}/")
    assert page.get_by_role("heading", name="Timeline").is_visible()
    assert page.get_by_role("heading", name="Why servicepulse raised it").is_visible()
    # How it grew, drawn once (the narrow drawing is hidden at this width, for screen readers too).
    chart = page.get_by_role("img", name=re.compile("^How “Moodle failing” grew, per 15 minutes"))
    assert chart.count() == 1 and chart.is_visible()
    assert chart.bounding_box()["height"] > 150


@pytest.mark.django_db(transaction=True)
def test_download_the_weekly_report_pdf(
    live_server: Any, world: dict[str, Any], users: Any, page: Any
) -> None:
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("experience:report_pdf")
    except NoReverseMatch:
        pytest.skip("the experience app has no PDF report (experience:report_pdf) yet")
    sign_in(page, live_server.url, "viewer")
    page.goto(f"{live_server.url}/experience/")
    with page.expect_download() as download_info:
        page.locator(f"a[href^='{url}']").first.click()
    download = download_info.value
    path = download.path()
    assert path is not None and Path(path).read_bytes()[:5] == b"%PDF-"


# axe-core rules checked on every signed-in page: labels, names, contrast, landmarks, keyboard-relevant roles.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.mark.django_db(transaction=True)
def test_pages_pass_axe_accessibility_checks(
    live_server: Any, world: dict[str, Any], users: Any, page: Any
) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from django.utils import timezone

    from servicepulse.incidents.services import incident_create

    axe = Axe()
    incident = incident_create(service_id="vle", title="Moodle failing", started_at=timezone.now())
    sign_in(page, live_server.url, "admin")
    problems = []
    paths = [
        "/",
        f"/services/{world['services'][0].id}/",
        "/incidents/",
        "/mentions/",
        "/catalog/",
        "/catalog/new/",
        "/sources/",
        "/sources/add/",
        "/alerts/",
    ]
    paths.append(f"/incidents/{incident.pk}/")
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        for violation in results.response["violations"]:
            targets = [node["target"] for node in violation["nodes"]][:3]
            problems.append(
                f"{path}: {violation['id']} ({violation['impact']}): {violation['help']} at {targets}"
            )
    page.goto(f"{live_server.url}/accounts/logout/")
    page.goto(f"{live_server.url}/accounts/login/")
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    problems += [f"/accounts/login/: {v['id']}: {v['help']}" for v in results.response["violations"]]
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_inbox_item_fields_stay_inside_their_form(
    live_server: Any, world: dict[str, Any], users: Any, page: Any
) -> None:
    from servicepulse.mentions.models import Mention

    mention = Mention.objects.filter(text__contains="moodle").first()
    assert mention is not None
    sign_in(page, live_server.url, "responder")
    page.goto(f"{live_server.url}/inbox/m/{mention.pk}/")
    # Each action form sits in a grid column; a wide textarea overlapped the next column's button.
    spill = page.evaluate(
        """() => [...document.querySelectorAll('form textarea, form input, form select')]
            .filter(el => el.type !== 'hidden')
            .map(el => el.getBoundingClientRect().right - el.closest('form').getBoundingClientRect().right)
            .filter(px => px > 1)"""
    )
    assert spill == [], f"fields stick out of their form by {spill} px"


@pytest.mark.django_db(transaction=True)
def test_status_page_day_bars_fit_a_phone(live_server: Any, world: dict[str, Any], browser: Any) -> None:
    with phone(browser, 360, 740) as page:
        page.goto(f"{live_server.url}/status/")
        assert page.locator("ol.days").count() >= 1
        spill = page.evaluate(
            """() => [...document.querySelectorAll('ol.days')].map(ol =>
                Math.max(ol.scrollWidth - ol.clientWidth,
                         ol.lastElementChild.getBoundingClientRect().right
                         - ol.closest('.card').getBoundingClientRect().right))"""
        )
        assert max(spill) <= 1, f"the 90-day bars run past their card by {max(spill)} px at 360px"


@pytest.mark.django_db(transaction=True)
def test_sources_table_rows_line_up(live_server: Any, world: dict[str, Any], users: Any, page: Any) -> None:
    sign_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/sources/")
    assert page.locator("td.actions-cell").count() >= 1
    # Every cell of a row ends where the row ends, the actions cell too (its border lines up with the rest).
    offsets = page.evaluate(
        """() => [...document.querySelectorAll('tbody tr')].flatMap(tr => [...tr.cells].map(td =>
            Math.abs(td.getBoundingClientRect().bottom - tr.getBoundingClientRect().bottom)))"""
    )
    assert max(offsets) <= 1, f"a cell ends {max(offsets)} px away from its row"


@pytest.mark.django_db(transaction=True)
def test_status_manage_page_fits_a_phone(
    live_server: Any, world: dict[str, Any], users: Any, browser: Any
) -> None:
    with phone(browser, 390, 844) as page:
        sign_in(page, live_server.url, "responder")
        page.goto(f"{live_server.url}/status/manage/")
        assert page.locator("code", has_text="/status/badge/").count() >= 1
        overflow = sideways_scroll(page)
        # The embed codes (each one long URL) ran 526px past a 390px screen as a three-column table.
        spill = page.evaluate(
            """() => [...document.querySelectorAll('.card code, .card table')].map(el =>
                el.getBoundingClientRect().right - el.closest('.card').getBoundingClientRect().right)"""
        )
        assert overflow <= 1, f"/status/manage/ scrolls sideways by {overflow}px at 390px"
        assert max(spill) <= 1, f"the manage page's content runs past its card by {max(spill)} px at 390px"


@pytest.mark.django_db(transaction=True)
def test_pages_look_as_meant_and_log_no_console_errors(
    live_server: Any, world: dict[str, Any], users: Any, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        # A first visit asked for /favicon.ico, which answered 404: an error in every visitor's console.
        page.goto(f"{live_server.url}/status/")
        page.wait_for_load_state("networkidle")
        assert errors == []
        sign_in(page, live_server.url, "admin")
        # The incidents' State select stretched across the whole filter card (a rule meant for the
        # explorer's search box), the Service select beside it a sixth as wide.
        page.goto(f"{live_server.url}/incidents/")
        state, service = (
            page.locator(f"#{name}").bounding_box()["width"] for name in ("f-state", "f-service")
        )
        assert state < 2 * service, f"State select {state}px wide, Service {service}px"
        page.goto(f"{live_server.url}/mentions/")
        search = page.locator(".filters input[type=text]").first.bounding_box()["width"]
        assert search > 0.8 * page.locator("form.filters").bounding_box()["width"]  # the search keeps its row
        # "Change options" (a link styled as a secondary button) was the solid primary blue.
        page.goto(f"{live_server.url}/sources/{world['sources'][0].pk}/")
        link = page.get_by_role("link", name="Change options")
        assert link.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 255, 255)"
        assert errors == []
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_state_badges_stay_on_one_line_at_phone_width(
    live_server: Any, world: dict[str, Any], users: Any, browser: Any
) -> None:
    from django.utils import timezone

    from servicepulse.incidents.models import IncidentKind, IncidentState
    from servicepulse.incidents.services import incident_create, incident_update_status

    faded = incident_create(
        service_id=world["services"][0].id,
        title="Moodle wobble",
        started_at=timezone.now(),
        kind=IncidentKind.DETECTED,
        state=IncidentState.POSSIBLE,
    )
    incident_update_status(incident=faded, state=IncidentState.RESOLVED)
    with phone(browser, 390, 844) as page:
        sign_in(page, live_server.url, "viewer")
        page.goto(f"{live_server.url}/incidents/")
        badge = page.locator(".badge", has_text="Faded, not confirmed").first
        # Squeezed into its column, the pill wrapped over three lines into an oval blob.
        height = badge.bounding_box()["height"]
        assert height < 30, f"the state badge is {height}px tall at 390px"


CHART_TEXT = """() => [...document.querySelectorAll('svg.chart text')]
  .filter(t => t.getClientRects().length)
  .map(t => { const r = t.getBoundingClientRect();
    return {text: t.textContent, top: r.top, left: r.left, right: r.right, height: r.height,
            size: parseFloat(getComputedStyle(t).fontSize) * r.height / t.getBBox().height}; })"""


# For each visible legend key, how far (px, vertically) it is from the first letter of the words after it.
LEGEND_KEYS_APART = """() => [...document.querySelectorAll('.legend .key')].filter(k => k.getClientRects().length)
  .map(k => { let t = k.nextSibling; while (t && !(t.textContent || '').trim()) t = t.nextSibling;
    const range = document.createRange(); const node = t.nodeType === 3 ? t : t.firstChild;
    const at = node.textContent.search(/\\S/); range.setStart(node, at); range.setEnd(node, at + 1);
    const word = range.getBoundingClientRect(), key = k.getBoundingClientRect();
    return [node.textContent.trim(), (key.top + key.bottom) / 2 - (word.top + word.bottom) / 2]; })"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "height"), [(375, 812), (1024, 768), (1366, 900)])
def test_the_service_pages_chart_labels_are_readable_on_a_phone_and_beside_another_card(
    width: int, height: int, live_server: Any, world: dict[str, Any], users: Any, browser: Any
) -> None:
    with phone(browser, width, height) as page:
        sign_in(page, live_server.url, "viewer")
        page.goto(f"{live_server.url}/services/{world['services'][0].id}/")
        labels = page.evaluate(CHART_TEXT)
        assert labels, "no chart text shown"
        # A 640-unit chart scaled into a 375px phone's card drew its dates and counts about 5px high.
        small = [(label["text"], round(label["size"], 1)) for label in labels if label["size"] < 9]
        assert not small, f"chart labels under 9px at {width}px: {small}"
        # One drawing of each chart is shown (the other is hidden, for screen readers too).
        assert page.locator("svg.chart:visible").count() == page.locator(".chart-box").count() >= 1
        assert page.get_by_role("img", name="Complaints about").count() == 1
        # The dates along the bottom do not run into one another.
        for chart in page.locator("svg.chart:visible").all():
            dates = sorted(
                (box["x"], box["x"] + box["width"])
                for box in (t.bounding_box() for t in chart.locator("text[text-anchor=middle]").all())
                if box is not None
            )
            assert all(
                left_end < right_start for (_, left_end), (right_start, _) in itertools.pairwise(dates)
            )
        # Each key stays on the line of the words it explains (the dashed key was left at the end of the line
        # above "typical for the day" on a phone).
        apart = page.evaluate(LEGEND_KEYS_APART)
        assert apart and all(abs(gap) < 16 for _, gap in apart), apart
        assert sideways_scroll(page) == 0
