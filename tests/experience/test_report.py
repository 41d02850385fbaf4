"""The weekly report: what it says, its page, the PDF with its chart, the e-mail, the command, the job."""

from __future__ import annotations

import json
import re
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from servicepulse.experience import charts
from servicepulse.experience.rendering import report_pdf, report_text
from servicepulse.experience.selectors import report_build, score_series, weekly_scores
from servicepulse.experience.services import report_email_send
from tests.factories import ServiceFactory

from .conftest import Week


def test_scores_trend_targets_and_spam(week: Week) -> None:
    report = report_build(week=week.label)
    rows = {row.service.id: row for row in report.services}
    vle = rows["vle"].score
    # 16 negative, 4 positive, 4 neutral (30 spam left out): (4 - 16) / 24 = -50.
    assert vle.n == 24 and vle.value == pytest.approx(-50.0)
    assert vle.low is not None and vle.high is not None and vle.low < -50 < vle.high
    assert vle.trend == "down"  # from +45 the week before: beyond noise
    assert vle.target_status == "below"
    assert rows["wifi"].score.too_few and rows["wifi"].score.trend == ""
    assert rows["vle"].spam == 30
    assert report.totals["complaints"] == 16
    assert [row.service.id for row in report.below_target] == ["vle"]


def test_a_post_counts_once_for_the_service_it_is_most_about(week: Week) -> None:
    from servicepulse.mentions.models import Mention

    from .conftest import analysed

    source = Mention.objects.first().source  # type: ignore[union-attr]
    for i in range(12):
        analysed(
            source,
            at=week.monday + timedelta(days=2, minutes=i),
            text="can't sign in to moodle, error page",
            sentiment="negative",
            complaint=True,
            services=("vle", "wifi"),
        )
    rows = {row.service.id: row for row in report_build(week=week.label).services}
    assert rows["vle"].score.n == 36
    assert rows["wifi"].score.too_few and rows["wifi"].score.n == 3
    # The board and the service page count the same posts for the same week (they counted every tag: QA
    # found Student e-mail at n = 69 on the board and 34 in the report).
    from servicepulse.dashboard.selectors import day_counts

    monday = timezone.localtime(week.monday).date()
    # The board's daily counts reach back HISTORY_DAYS (120) from today: read them as of the week after the
    # fixtures' week, or the test fails for good once that week is four months old.
    with freeze_time(week.monday + timedelta(days=8), tick=True):
        days = day_counts(service_ids=["vle", "wifi"], first=monday, last=monday + timedelta(days=6))
    assert {sid: sum(c.posts for c in counts.values()) for sid, counts in days.items()} == {
        "vle": 36,
        "wifi": 3,
    }
    # A complaint counts for every service it names, on the board as in the report (and in detection).
    complaints = {sid: sum(c.complaints for c in counts.values()) for sid, counts in days.items()}
    assert complaints == {sid: rows[sid].complaints for sid in ("vle", "wifi")}
    assert complaints["wifi"] >= 12


def test_the_headline_counts_a_complaint_about_two_services_once(week: Week) -> None:
    from servicepulse.mentions.models import Mention

    from .conftest import analysed

    source = Mention.objects.first().source  # type: ignore[union-attr]
    for i in range(5):
        analysed(
            source,
            at=week.monday + timedelta(days=3, minutes=i),
            text="eduroam drops and then moodle logs me out",
            sentiment="negative",
            complaint=True,
            services=("vle", "wifi"),
        )
    report = report_build(week=week.label)
    # 16 + 5 complaint posts; the per-service rows count the 5 for both services (21 + 5), the headline did
    # too ("26 complaints" above a daily chart whose complaint bars add up to 21).
    assert report.totals["complaints"] == 21
    assert sum(row.complaints for row in report.services) == 26
    assert "21 complaints" in report_text(report)


def test_the_daily_chart_counts_every_post_the_headline_counts(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Posts exported at minute resolution share their times: the daily chart counted one post per (time,
    complaint or not), so a file imported twice (the second time adding nothing) showed 11 posts in the headline
    above bars adding up to 8."""
    from servicepulse.analysis.models import MentionAnalysis
    from servicepulse.analysis.services import mentions_analyze
    from servicepulse.mentions.models import Mention
    from servicepulse.sources.connectors.file_import.importer import import_file

    from .conftest import MONDAY, WEEK

    ServiceFactory(id="vle", name="Moodle VLE", aliases=["moodle"], order=0)
    ServiceFactory(id="wifi", name="Wi-Fi", aliases=["eduroam"], order=1)
    ServiceFactory(id="email", name="Student e-mail", aliases=["outlook"], order=2)
    texts = [  # three posts a minute: the same time each
        ["moodle is down again, can't upload my essay", "moodle upload error 500", "eduroam keeps dropping"],
        ["loving the new moodle quiz page", "eduroam in the library is great today", "outlook is fine"],
        ["moodle and eduroam both broken tonight", "outlook won't load my inbox", "moodle is so slow"],
        ["reading the week 5 slides on moodle", "eduroam works again, thanks"],
    ]
    lines = [
        json.dumps(
            {
                "id": f"p{day}-{i}",
                "text": text,
                "created_at": (MONDAY + timedelta(days=day + 1, hours=9)).isoformat(),
            }
        )
        for day, minute in enumerate(texts)
        for i, text in enumerate(minute)
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert import_file(path=path).as_dict() == {"imported": 11, "duplicates": 0, "rejected": 0}
    assert import_file(path=path).as_dict() == {"imported": 0, "duplicates": 11, "rejected": 0}
    assert mentions_analyze(mention_ids=list(Mention.objects.values_list("id", flat=True))) == 11
    about_services = MentionAnalysis.objects.filter(spam=False, tags__isnull=False).distinct()
    assert about_services.count() == 11  # each names a service

    report = report_build(week=WEEK)
    assert report.totals["mentions"] == 11
    bars = [int(n) for n in re.findall(r"text-anchor='middle'>(\d+)</text>", str(report.chart_daily))]
    assert bars == [0, 3, 3, 3, 2, 0, 0]
    assert report.totals["complaints"] == about_services.filter(complaint=True).count() > 0
    assert "11 posts about IT services" in report_text(report)


def test_themes_with_example_posts(week: Week) -> None:
    report = report_build(week=week.label)
    assert report.themes
    top = report.themes[0]
    assert top.service_id == "vle"
    assert any(word in top.label for word in ("upload", "error", "essay"))
    assert top.count >= 10
    assert top.examples and "moodle upload error" in top.examples[0].text
    assert len({p.author for p in top.examples}) == len(top.examples)  # different people


def test_incident_with_detection_and_lead_over_the_desk(week: Week) -> None:
    from servicepulse.incidents.models import IncidentKind, IncidentState
    from servicepulse.incidents.services import incident_create

    # A possible problem that never confirmed is counted, not listed.
    incident_create(
        service_id="wifi",
        title="Wi-Fi: complaints rising",
        started_at=week.monday + timedelta(days=3),
        kind=IncidentKind.DETECTED,
        state=IncidentState.POSSIBLE,
        at=week.monday + timedelta(days=3, minutes=30),
    )
    report = report_build(week=week.label)
    assert report.possible_problems == 1
    assert report.incidents is not None and len(report.incidents) == 1
    row = report.incidents[0]
    assert row.facts.time_to_detect == timedelta(minutes=20)
    assert row.first_ticket_at is not None
    assert row.lead_over_desk == timedelta(hours=2) - timedelta(minutes=20)
    assert row.display_title == "Moodle VLE: upload errors"


def test_inbox_response_times_follow_the_catalogue_order(week: Week) -> None:
    from servicepulse.engage.services import case_open
    from servicepulse.mentions.models import Mention

    from .conftest import analysed

    ServiceFactory(id="a-printing", name="Printing", order=5)  # its id sorts first, its place is last
    source = Mention.objects.first().source  # type: ignore[union-attr]
    at = week.monday + timedelta(days=4)
    for i, services in enumerate([("a-printing",), ("wifi",), ("vle",), ()]):
        case_open(
            mention=analysed(
                source, at=at + timedelta(minutes=i), text="help", sentiment="neutral", services=services
            )
        )
    report = report_build(week=week.label)
    assert report.response_times is not None
    # They came sorted by service id (Printing, Moodle VLE, Wi-Fi): a different order from every other table.
    assert [rt.service_name for rt in report.response_times] == [
        "Moodle VLE",
        "Wi-Fi",
        "Printing",
        "No service",
    ]


def test_sla_beside_what_users_said(week: Week) -> None:
    report = report_build(week=week.label)
    assert report.sla is not None
    p2 = next(r for r in report.sla if r.priority == "P2")
    assert (p2.opened, p2.resolved, p2.within_target) == (2, 2, 1)
    vle = next(r for r in report.sla_services if r.service.id == "vle")
    assert vle.opened == 2 and vle.within_pct == 50 and vle.complaints == 16


def test_a_week_without_tickets_or_posts_leaves_those_sections_out(week: Week) -> None:
    report = report_build(week="2026-W40")
    assert report.sla is None
    assert report.themes == []
    assert all(row.score.too_few for row in report.services)
    assert report.incidents == []


def test_series_for_charts(week: Week) -> None:
    weekly = score_series(
        service_id="vle", start=week.monday - timedelta(days=7), end=week.monday + timedelta(days=7)
    )
    assert [round(p.value) for p in weekly if p.value is not None] == [45, -50]
    assert weekly[-1].trend == "down"
    daily = score_series(
        service_id="vle", start=week.monday, end=week.monday + timedelta(days=7), period="day"
    )
    assert len(daily) == 7
    assert sum(p.n for p in daily) == 24
    with pytest.raises(ValueError, match="period"):
        score_series(service_id="vle", start=week.monday, end=week.monday, period="month")


def test_weekly_scores_for_the_board(week: Week) -> None:
    scores = weekly_scores(service_ids=["vle", "wifi"], weeks=4, now=week.monday + timedelta(days=7))
    assert len(scores["vle"]) == 4
    latest = scores["vle"][-1]
    assert latest.value == pytest.approx(-50.0) and latest.trend == "down" and latest.meets_target is False
    assert scores["wifi"][-1].too_few


def test_report_page_needs_a_signed_in_viewer(week: Week, users, client: Client) -> None:  # type: ignore[no-untyped-def]
    url = f"/experience/report/?week={week.label}"
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(users["viewer"])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Experience score by service" in html
    assert "<svg" in html and charts.SCORE_BAR_NEG in html
    assert "Moodle VLE: upload errors" in html
    assert "too few posts" in html
    assert "Service-desk SLAs beside what users said" in html
    assert "moodle upload error again" in html
    assert client.get("/experience/report/?week=2026-W99").status_code == 400
    assert client.get("/experience/").status_code == 200


def test_a_service_with_too_few_posts_is_not_called_steady(week: Week, users, client: Client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["viewer"])
    html = client.get(f"/experience/report/?week={week.label}").content.decode()
    scores = html.split('id="scores-h"')[1].split("</table>")[0]
    rows = {
        name: row
        for row in re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", scores, re.S)
        for name in re.findall(r'<th scope="row">([^<]+)</th>', row)
    }
    # Wi-Fi: 3 posts this week. An empty week (or one with a handful of posts) read "steady".
    assert "steady" not in rows["Wi-Fi"] and "no trend: too few posts" in rows["Wi-Fi"]
    assert "falling" in rows["Moodle VLE"]
    empty = client.get("/experience/report/?week=2026-W40").content.decode()
    assert "steady" not in empty


def _pdf_content(pdf: bytes) -> bytes:
    out = b""
    # A stream's last byte can be \r, which the pattern takes as the line end before `endstream`: a
    # decompressobj still gives all the data from a stream cut short by its checksum's last byte (the
    # plain zlib.decompress refused it, and about one run in a hundred lost the chart's stream).
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out += zlib.decompressobj().decompress(stream)
        except zlib.error:
            continue
    return out


def _colour_op(hex_colour: str) -> bytes:
    parts = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    return " ".join(f"{p:.6f}".rstrip("0").rstrip(".") for p in parts).encode()


def test_pdf_starts_with_pdf_and_draws_the_chart(week: Week) -> None:
    pdf = report_pdf(report_build(week=week.label))
    assert pdf.startswith(b"%PDF")
    content = _pdf_content(pdf)
    # The score chart's negative bar (fill) and its interval whisker (stroke) are drawn as vectors.
    assert _colour_op(charts.SCORE_BAR_NEG) + b" rg" in content
    assert _colour_op(charts.CI_COLOUR) + b" RG" in content


def test_pdf_download(week: Week, users, client: Client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["viewer"])
    response = client.get(f"/experience/report/pdf/?week={week.label}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_email_with_html_text_and_the_pdf_attached(week: Week) -> None:
    assert report_email_send(week=week.label, recipients=["cio@northgate.example"]).sent == [
        "cio@northgate.example"
    ]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["cio@northgate.example"]
    assert week.label in message.subject
    assert "EXPERIENCE SCORE" in message.body and "Moodle VLE: -50" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Experience score by service" in html
    name, content, mimetype = message.attachments[0]
    assert name.endswith(".pdf") and mimetype == "application/pdf" and content.startswith(b"%PDF")


def test_report_command_writes_the_pdf_and_sends_the_email(week: Week, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    pdf = tmp_path / "report.pdf"
    call_command(
        "report",
        "--week",
        week.label,
        "--pdf",
        str(pdf),
        "--email",
        "a@example.org",
        "--email",
        "b@example.org",
    )
    assert pdf.read_bytes().startswith(b"%PDF")
    # One message each: nobody sees the list, and one refused address does not stop the others.
    assert [m.to for m in mail.outbox] == [["a@example.org"], ["b@example.org"]]
    call_command("report", "--week", week.label)
    assert "IT experience report" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO week"):
        call_command("report", "--week", "last week")


def test_the_printed_report_promises_no_attachment_and_counts_in_words(week: Week, capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("report", "--week", week.label)
    printed = capsys.readouterr().out
    assert "attached" not in printed  # it said "The PDF with charts is attached." on the terminal
    assert "- Wi-Fi: 1 ticket, 0% within SLA" in printed  # was "1 tickets"
    assert report_email_send(week=week.label, recipients=["cio@northgate.example"]).sent == [
        "cio@northgate.example"
    ]
    assert "The PDF with charts is attached." in mail.outbox[0].body


def test_the_command_refuses_a_week_that_has_not_started(week: Week) -> None:
    from django.core.management.base import CommandError

    from servicepulse.experience.periods import IsoWeek

    following = IsoWeek.containing(timezone.now()).next()
    with pytest.raises(CommandError, match="has not started yet"):  # printed an empty "0 posts" report
        call_command("report", "--week", following.label)


def test_weekly_job_is_scheduled_and_sends_to_the_configured_recipients(week: Week, settings) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.core.scheduler import periodic_jobs
    from servicepulse.experience.tasks import weekly_report_send

    job = next(j for j in periodic_jobs() if j.name == "experience.weekly_report_send")
    assert job.cron == {"day_of_week": "mon", "hour": 7, "minute": 0}
    settings.SERVICEPULSE_REPORT_RECIPIENTS = []
    assert weekly_report_send.call() == 0
    settings.SERVICEPULSE_REPORT_RECIPIENTS = ["cio@northgate.example"]
    assert weekly_report_send.call() == 1
    assert mail.outbox[-1].attachments


@pytest.mark.parametrize("asked", ["0001-W01", "0001-W03", "9999-W52", "2999-W01"])
def test_a_week_out_of_reach_is_a_bad_request(users, client: Client, asked: str) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["viewer"])
    for path in ("/experience/report/", "/experience/report/pdf/"):
        response = client.get(f"{path}?week={asked}")  # 0001-W01 and 9999-W52 were 500s (dates out of range)
        assert response.status_code == 400, (path, asked)


def test_the_current_week_says_it_is_not_over(users, client: Client) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.experience.periods import IsoWeek

    client.force_login(users["viewer"])
    current = IsoWeek.containing(timezone.now())
    html = client.get(f"/experience/report/?week={current.label}").content.decode()
    assert "This week is not over yet" in html
    assert (
        "This week is not over yet"
        not in client.get(f"/experience/report/?week={current.previous().label}").content.decode()
    )
    # the plain text (the e-mail's text part and the report command) says so too
    assert "This week is not over yet: the figures cover it up to" in report_text(report_build(week=current))
    assert "This week is not over yet" not in report_text(report_build(week=current.previous()))
    ServiceFactory(id="vle", name="Moodle VLE")  # the list starts with the first week servicepulse has data
    index = client.get("/experience/").content.decode()
    assert f'Week {current.label}</a> <span class="muted">{current.title} (in progress)' in index


def test_a_bad_week_is_explained_in_the_page_and_the_edges_hold(users, client: Client) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.experience.periods import IsoWeek

    client.force_login(users["viewer"])
    response = client.get("/experience/report/?week=abc")
    html = response.content.decode()
    assert response.status_code == 400 and "No report for that week" in html and 'class="topbar"' in html
    first = client.get("/experience/report/?week=1970-W02").content.decode()
    assert "1970-W01" in first and "1969-W" not in first  # no link to a week the report refuses
    assert "1969-W" not in client.get("/experience/report/?week=1970-W01").content.decode()
    assert IsoWeek(2026, 1).title == "29 Dec 2025 to 4 Jan 2026"  # was "29 Dec to 4 Jan 2026"
    assert IsoWeek(2026, 47).title == "16 Nov to 22 Nov 2026"


def test_inbox_response_times_say_how_many_posts_of_the_week_nobody_acted_on(
    week: Week, users, client: Client
) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.engage.services import case_open
    from servicepulse.mentions.models import Mention

    # One of the week's 16 complaints was opened as a case; the table read "1 case, 1 answered" as if the
    # inbox were done, with 15 complaints of the same week untouched.
    case_open(mention=Mention.objects.filter(text__startswith="moodle upload error").first())  # type: ignore[arg-type]
    report = report_build(week=week.label)
    assert report.response_times is not None and sum(rt.cases for rt in report.response_times) == 1
    assert report.inbox_untouched == 15
    client.force_login(users["viewer"])
    html = client.get(f"/experience/report/?week={week.label}").content.decode()
    section = html.split('id="response-h"')[1].split("</section>")[0]
    assert "Not counted above: <strong>15 posts</strong> of the week that nobody has acted on yet" in section


def test_the_emailed_report_says_how_many_posts_nobody_acted_on(week: Week) -> None:
    from servicepulse.engage.services import case_open
    from servicepulse.mentions.models import Mention

    # The web report's note under the response times was missing from the e-mail that carries the report.
    case_open(mention=Mention.objects.filter(text__startswith="moodle upload error").first())  # type: ignore[arg-type]
    assert report_email_send(week=week.label, recipients=["cio@northgate.example"]).sent == [
        "cio@northgate.example"
    ]
    message = mail.outbox[-1]
    text = message.body.split("INBOX RESPONSE TIMES")[1]
    assert "1 case, 0 answered" in text
    assert (
        "Not counted above: 15 posts of the week that nobody has acted on yet (still New in the inbox), so "
        'they have no response time. "Answered" counts only the cases someone opened.'
    ) in text
    html = message.alternatives[0][0]  # type: ignore[attr-defined]
    section = html.split('id="response-h"')[1].split("</section>")[0]
    assert "Not counted above: <strong>15 posts</strong> of the week that nobody has acted on yet" in section
    assert "“Answered” counts only the cases someone opened." in section


def test_the_emailed_html_reads_in_a_mail_client(week: Week, settings) -> None:  # type: ignore[no-untyped-def]
    """Mail clients drop a <style> block and every SVG: the e-mail carried its colours and layout only in the
    stylesheet, and its charts and sparklines as SVG (Gmail showed neither, some clients their labels as loose
    text), with screen-reader text that shows once the stylesheet is gone, and the incident without its link."""
    settings.BASE_URL = "https://pulse.northgate.example"
    report_email_send(week=week.label, recipients=["cio@northgate.example"])
    message = mail.outbox[0]
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    assert "<style" not in html and "<svg" not in html and "<script" not in html and "<link" not in html
    assert "sr-only" not in html
    assert "The charts are in the attached PDF" in html
    # Every table cell carries its own style; a negative score its colour.
    cells = re.findall(r"<t[dh]\b[^>]*>", html)
    assert cells and all("style=" in cell for cell in cells)
    assert re.search(r'<td class="num neg" style="[^"]*color:#a31f17[^"]*">-50</td>', html)
    links = re.findall(r'href="([^"]*)"', html)
    assert links and all(link.startswith("https://pulse.northgate.example/") for link in links)
    assert any("/incidents/" in link for link in links)


def test_a_long_service_name_fits_the_score_chart(week: Week) -> None:
    """The chart's label column is about 27 characters wide: a longer name ran off its left edge and the PDF
    showed "th e-bost y Brifysgol" for "Ebost — gwasanaeth e-bost y Brifysgol"."""
    name = "Ebost — gwasanaeth e-bost y Brifysgol (Welsh: Ŵŷ)"
    svg = charts.score_bars([charts.ScoreBar(label=name, value=-40.0, n=12)], title="t")
    shown = re.search(r"text-anchor='end'><title>([^<]*)</title>([^<]*)</text>", svg)
    assert shown is not None
    assert shown.group(1) == "Ebost — gwasanaeth e-bost y Brifysgol (Welsh: Ŵŷ)"  # the whole name on hover
    assert shown.group(2) == "Ebost — gwasanaeth e-bost…"
    assert len(shown.group(2)) <= charts.LABEL_CHARS
    assert charts.fit_label("Moodle VLE") == "Moodle VLE"


def test_the_text_report_says_there_are_no_services(db, capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("report", "--week", "2026-W47")
    printed = capsys.readouterr().out
    # Under EXPERIENCE SCORE there was nothing at all, then INCIDENTS.
    assert "EXPERIENCE SCORE" in printed and "No services in the catalogue yet" in printed


def test_quotes_in_arabic_read_right_to_left_in_the_page_and_the_email(week: Week) -> None:
    """A quoted complaint in Arabic took the page's left-to-right direction: its question mark and the
    handle it opens with jumped to the wrong end. The direction is written out (mail clients and the PDF
    ignore dir="auto")."""
    from servicepulse.experience.rendering import report_email_html
    from servicepulse.sources.models import Source

    from .conftest import MONDAY, analysed

    source = Source.objects.get(name="Students (Facebook)")
    for i in range(8):
        analysed(
            source,
            at=MONDAY + timedelta(days=2, hours=10, minutes=i),
            text=f"@ITServiceDesk الواي فاي لا يعمل في السكن منذ الصباح؟ {i}",
            sentiment="negative",
            complaint=True,
            services=("wifi",),
            author=f"طالب{i}",
        )
    report = report_build(week=week.label)
    quoted = [p.text for t in report.themes for p in t.examples if "الواي" in p.text]
    assert quoted, [t.label for t in report.themes]
    html = report_email_html(report)
    assert re.search(r'<blockquote dir="rtl"[^>]*>@ITServiceDesk الواي', html)
    assert re.search(r'<blockquote dir="ltr"[^>]*>moodle upload error', html)
    assert re.search(r"<bdi[^>]*>طالب\d</bdi>", html)
