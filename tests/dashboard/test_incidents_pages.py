"""Incident and alert rule pages against the incidents app's models and services."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from servicepulse.core.times import local_time_text

incident_services = pytest.importorskip(
    "servicepulse.incidents.services", reason="the incidents app is not there"
)


@pytest.fixture
def incident(world: dict[str, Any]) -> Any:
    vle = world["services"][0]
    incident = incident_services.incident_create(
        service_id=vle.id,
        title="Moodle failing on deadline night",
        started_at=timezone.now() - timedelta(hours=2),
        explanation={
            "summary": "34 complaints about Moodle VLE from 21 people since 21:40.",
            "terms": [
                {"term": "upload", "ratio": 9.5, "posts": 14},
                {"term": "deadline", "ratio": 6.0, "posts": 9},
            ],
            "representatives": ["moodle won't let me upload my essay and it's due at midnight"],
            "growth": "12 complaints in the first hour; ten people within 35 minutes",
        },
    )
    posts = [(m.pk, m.author_key) for m in world["mentions"][:5]]
    incident_services.incident_attach_mentions(incident=incident, posts=posts)
    return incident


@pytest.mark.django_db
def test_incident_list_and_board_show_an_open_incident(
    incident: Any, clients: dict[str, Client], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(10):
        listing = clients["viewer"].get("/incidents/")
    assert incident.title in listing.content.decode()
    board = clients["viewer"].get("/").content.decode()
    assert "Moodle failing on deadline night" in board
    assert 'class="card svc state-incident"' in board
    assert (
        clients["viewer"].get("/incidents/", {"state": "resolved"}).content.decode().count(incident.title)
        == 0
    )


@pytest.mark.django_db
def test_incident_detail_shows_explanation_timeline_posts_and_people(
    incident: Any, world: dict[str, Any], clients: dict[str, Client]
) -> None:
    html = clients["viewer"].get(f"/incidents/{incident.pk}/").content.decode()
    assert "34 complaints about Moodle VLE" in html
    assert "upload" in html and "\u00d79.5" in html
    assert "due at midnight" in html
    assert "ten people within 35 minutes" in html
    assert "Affected people (5)" in html
    assert world["mentions"][0].text[:30] in html
    assert "Change state" not in html  # viewers read only
    assert clients["viewer"].get("/incidents/999999/").status_code == 404


@pytest.mark.django_db
def test_responder_resolves_and_notes_an_incident(incident: Any, clients: dict[str, Client]) -> None:
    responder = clients["responder"]
    assert "Change state" in responder.get(f"/incidents/{incident.pk}/").content.decode()
    response = responder.post(
        f"/incidents/{incident.pk}/act/",
        {"action": "state", "state": "resolved", "comment": "restarted the pool"},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == "resolved"
    responder.post(f"/incidents/{incident.pk}/act/", {"action": "note", "comment": "root cause: disk full"})
    html = responder.get(f"/incidents/{incident.pk}/").content.decode()
    assert "restarted the pool" in html and "root cause: disk full" in html
    refused = clients["viewer"].post(
        f"/incidents/{incident.pk}/act/", {"action": "state", "state": "confirmed"}
    )
    assert refused.status_code == 403


@pytest.mark.django_db
def test_responder_opens_an_incident_and_plans_maintenance(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    from servicepulse.incidents.models import Incident

    start = timezone.localtime().replace(second=0, microsecond=0)
    response = clients["responder"].post(
        "/incidents/open/",
        {
            "kind": "manual",
            "service": "wifi",
            "title": "Eduroam down in Hopkins",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    assert Incident.objects.filter(title="Eduroam down in Hopkins", service_id="wifi").exists()
    clients["responder"].post(
        "/incidents/open/",
        {
            "kind": "maintenance",
            "service": "vle",
            "title": "Moodle upgrade",
            "start": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "end": (start + timedelta(days=1, hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert Incident.objects.get(title="Moodle upgrade").kind == "maintenance"
    no_end = clients["responder"].post(
        "/incidents/open/",
        {"kind": "maintenance", "service": "vle", "title": "x", "start": start.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert "needs an end" in no_end.content.decode()


@pytest.mark.django_db
def test_alert_rules_page_lists_and_creates(
    world: dict[str, Any], clients: dict[str, Client], django_assert_max_num_queries: Any
) -> None:
    from servicepulse.incidents.models import AlertRule

    admin = clients["admin"]
    response = admin.post(
        "/alerts/",
        {
            "name": "Desk on Teams",
            "channel": "teams",
            "target": "https://example.invalid/hook",
            "services": ["vle", "wifi"],
            "min_state": "possible",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    )
    assert response.status_code == 302, response.content.decode()
    rule = AlertRule.objects.get(name="Desk on Teams")
    assert set(rule.services.values_list("id", flat=True)) == {"vle", "wifi"}
    with django_assert_max_num_queries(10):
        html = admin.get("/alerts/").content.decode()
    assert "Desk on Teams" in html and "22:00 to 07:00" in html
    half = admin.post(
        "/alerts/",
        {
            "name": "x",
            "channel": "email",
            "target": "a@b.c",
            "min_state": "confirmed",
            "quiet_start": "22:00",
        },
    )
    assert "Give both ends" in half.content.decode()


@pytest.mark.django_db
def test_incident_page_query_count_does_not_grow_with_posts(
    incident: Any, world: dict[str, Any], clients: dict[str, Client], django_assert_max_num_queries: Any
) -> None:
    more = [(m.pk, m.author_key) for m in world["mentions"][5:]]
    incident_services.incident_attach_mentions(incident=incident, posts=more)
    with django_assert_max_num_queries(12):
        html = clients["viewer"].get(f"/incidents/{incident.pk}/").content.decode()
    assert "Posts 1–25 of 30" in html and 'href="?posts=2#posts-h"' in html  # noqa: RUF001 - the page's en dash


@pytest.mark.django_db
def test_a_refused_incident_form_comes_back_as_typed(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    from servicepulse.incidents.models import Incident

    start = timezone.localtime().replace(second=0, microsecond=0)
    typed = {
        "kind": "maintenance",
        "service": "vle",
        "title": "Moodle upgrade to 4.5",
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),  # before the start
        "comment": "the vendor's plan, typed at length",
    }
    for refused in (typed, {**typed, "end": ""}):
        response = clients["responder"].post("/incidents/open/", refused)
        html = response.content.decode()
        assert response.status_code == 400
        assert 'value="Moodle upgrade to 4.5"' in html  # nothing typed is lost
        assert "the vendor&#x27;s plan, typed at length" in html
        assert '<details class="card" id="open-incident" open>' in html
        assert "needs an end" in html or "must end after it starts" in html
    assert not Incident.objects.filter(title="Moodle upgrade to 4.5").exists()
    # The list shown there pages and filters through the list's own address.
    assert clients["responder"].get("/incidents/open/?page=2").url == "/incidents/?page=2"


@pytest.mark.django_db
def test_a_relabelled_post_stops_counting_on_its_incident_and_back(
    incident: Any, world: dict[str, Any], clients: dict[str, Client]
) -> None:
    responder, moodle = clients["responder"], world["mentions"][0]  # a complaint about the VLE, attached

    def relabel(field: str, value: str = "", services: list[str] | None = None) -> None:
        form = {"mention_ids": [moodle.pk], "field": field, "value": value, "services": services or []}
        assert responder.post("/mentions/relabel/", form).status_code == 302

    def shown() -> tuple[str, str]:
        page = responder.get(f"/incidents/{incident.pk}/").content.decode()
        listing = responder.get("/incidents/").content.decode()
        return page, listing

    relabel("spam", "yes")
    page, listing = shown()
    assert "<dt>People affected</dt><dd>4</dd>" in page and "Affected people (4)" in page
    assert "not counted</strong>" in page and moodle.text[:30] in page  # still listed, marked
    assert "<td>4</td>" in listing
    relabel("spam", "no")  # changed back: counted again
    page, listing = shown()
    assert "<dt>People affected</dt><dd>5</dd>" in page and "not counted</strong>" not in page
    relabel("services", services=["wifi"])  # about another service
    assert "<dt>People affected</dt><dd>4</dd>" in shown()[0]
    relabel("services", services=["vle", "wifi"])
    relabel("complaint", "no")
    assert "<dt>People affected</dt><dd>4</dd>" in shown()[0]


@pytest.mark.django_db
def test_a_hand_opened_incident_says_who_did_what_and_claims_no_detection(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    start = timezone.localtime().replace(second=0, microsecond=0)
    opened = clients["responder"].post(
        "/incidents/open/",
        {
            "kind": "manual",
            "service": "student-email",
            "title": "Outlook slow for staff",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "comment": "reported by the service desk",
        },
    )
    page = opened["Location"]
    clients["responder"].post(page + "act/", {"action": "note", "comment": "vendor says 11:00"})
    html = clients["viewer"].get(page).content.decode()
    assert "reported by the service desk" in html and "vendor says 11:00" in html
    assert html.count('<small class="muted">— responder</small>') == 2  # who opened it, who wrote the note
    assert "Why servicepulse raised it" not in html  # a person raised it, not detection


@pytest.mark.django_db
def test_the_alert_rules_page_says_when_a_rule_last_failed(
    incident: Any, clients: dict[str, Client], django_assert_max_num_queries: Any
) -> None:
    from servicepulse.incidents.models import AlertDelivery, DeliveryStatus

    broken = incident_services.alert_rule_create(
        name="Desk on Slack", channel="slack", target="https://hooks.slack.example/T1/B1/x"
    )
    fine = incident_services.alert_rule_create(
        name="Desk by e-mail", channel="email", target="desk@example.ac.uk"
    )
    incident_services.alert_rule_create(name="Nobody yet", channel="email", target="x@example.ac.uk")
    AlertDelivery.objects.create(
        rule=broken,
        incident=incident,
        incident_state="confirmed",
        status=DeliveryStatus.FAILED,
        attempts=1,
        last_error="HTTP 410 Gone: no_service",
    )
    AlertDelivery.objects.create(
        rule=fine,
        incident=incident,
        incident_state="confirmed",
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
    )
    with django_assert_max_num_queries(10):
        html = clients["admin"].get("/alerts/").content.decode()
    rows = {name: html.split(name, 1)[1].split("</tr>", 1)[0] for name in ("Desk on Slack", "Desk by e-mail")}
    assert "Failed" in rows["Desk on Slack"] and "HTTP 410 Gone: no_service" in rows["Desk on Slack"]
    assert incident.title in rows["Desk on Slack"]
    assert "Sent" in rows["Desk by e-mail"] and "error-text" not in rows["Desk by e-mail"]
    assert "none yet" in html.split("Nobody yet", 1)[1].split("</tr>", 1)[0]


@pytest.mark.django_db
def test_the_note_typed_with_planned_maintenance_is_kept(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    start = timezone.localtime().replace(second=0, microsecond=0) + timedelta(days=1)
    opened = clients["responder"].post(
        "/incidents/open/",
        {
            "kind": "maintenance",
            "service": "vle",
            "title": "Moodle upgrade",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "comment": "read-only from 06:30; the vendor is on call",
        },
    )
    assert opened.status_code == 302
    html = clients["viewer"].get(opened["Location"]).content.decode()
    assert "read-only from 06:30; the vendor is on call" in html


@pytest.mark.django_db
def test_the_explanation_counts_what_the_page_counts_after_a_relabel(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    """An analyst relabels an attached post: the explanation detection wrote counts the same people as the
    rest of the page, and says what it counted when it was written; the stored explanation is unchanged."""
    from servicepulse.analysis.selectors import analysed_posts
    from servicepulse.incidents import explain
    from servicepulse.incidents.models import Incident, IncidentKind, IncidentState

    now = timezone.now()
    started = now - timedelta(hours=26)
    moodle = [m for m in world["mentions"] if m.text.startswith("moodle") and m.created_at >= started]
    assert len(moodle) == 6  # six people, one complaint each
    posts = [p for p in analysed_posts(since=started, until=now, service_ids=["vle"]) if p.complaint]
    written = explain.explain(
        service_name="Moodle VLE", incident_posts=posts, baseline_posts=[], started_at=started
    )
    assert written["summary"].startswith("6 complaints about Moodle VLE from 6 people since ")
    incident = incident_services.incident_create(
        service_id="vle",
        title="Moodle VLE: complaints rising",
        started_at=started,
        kind=IncidentKind.DETECTED,
        state=IncidentState.CONFIRMED,
        explanation=written,
    )
    incident_services.incident_attach_mentions(
        incident=incident, posts=[(m.pk, m.author_key) for m in moodle]
    )
    responder = clients["responder"]
    before = responder.get(f"/incidents/{incident.pk}/").content.decode()
    assert "6 complaints about Moodle VLE from 6 people" in before and "Affected people (6)" in before
    assert "When servicepulse wrote this explanation" not in before  # nothing changed: nothing to say

    relabel = {"mention_ids": [moodle[0].pk], "field": "spam", "value": "yes"}
    assert responder.post("/mentions/relabel/", relabel).status_code == 302
    page = responder.get(f"/incidents/{incident.pk}/").content.decode()
    assert "<dt>People affected</dt><dd>5</dd>" in page and "Affected people (5)" in page
    assert "5 complaints about Moodle VLE from 5 people since" in page
    assert "from 6 people" not in page.replace("6 complaints from 6 people;", "")
    assert (
        "When servicepulse wrote this explanation it counted 6 complaints from 6 people; since then an "
        "analyst relabelled 1 attached post" in page
    )
    # The others still say what the relabelled post said: it still stands for the incident.
    assert '<blockquote dir="ltr">moodle is down again' in page
    # What detection wrote (and alerts were sent with) is kept as written.
    assert Incident.objects.get(pk=incident.pk).explanation == written
    # The status page's draft counts the same people.
    review = responder.get(f"/status/manage/from-incident/{incident.pk}/").content.decode()
    assert "5 people have told us" in review and "6 people" not in review


@pytest.mark.django_db
def test_a_resolved_incident_says_when_it_ran_and_names_people_never_by_their_digest(
    world: dict[str, Any], clients: dict[str, Client], settings: Any
) -> None:
    """A resolved incident's page read "since 21:18", as if still open, and listed the people it affected by
    their author keys ("5:2b4ab00f1d3b…", a widget reporter's digest)."""
    from datetime import UTC, datetime

    from servicepulse.incidents.models import IncidentKind, IncidentState
    from tests.factories import MentionFactory

    settings.TIME_ZONE = "America/New_York"  # the organisation's, five hours behind UTC in November
    widget = next(s for s in world["sources"] if s.kind == "widget")
    reddit = next(s for s in world["sources"] if s.kind == "reddit")
    started = datetime(2026, 11, 20, 2, 18, tzinfo=UTC)  # 21:18 on the 19th in New York
    posts = [
        MentionFactory(
            source=reddit, author="sam_k", author_id="t2_abc", text="sso down", created_at=started
        ),
        MentionFactory(source=widget, author="", author_id="2b4ab00f1d3b3869204916e9", text="can't sign in"),
        MentionFactory(source=widget, author="", author_id="81c03e72ddedaf6656cd644a", text="sign in broken"),
    ]
    incident = incident_services.incident_create(
        service_id="sso",
        title="Single sign-on: complaints rising",
        started_at=started,
        kind=IncidentKind.DETECTED,
        explanation={
            "summary": "3 complaints about Single sign-on from 3 people since 21:18; most mention “sign”.",
            "affected_authors": 3,
            "authors": ["sam_k", f"{widget.pk}:2b4ab00f1d3b3869204916e9"],
        },
    )
    incident_services.incident_attach_mentions(incident=incident, posts=[(m.pk, m.author_key) for m in posts])
    viewer = clients["viewer"]
    with freeze_time(datetime(2026, 11, 20, 3, 0, tzinfo=UTC)):  # 22:00 the same evening in New York
        while_open = viewer.get(f"/incidents/{incident.pk}/").content.decode()
    began = local_time_text(started)
    assert began == "19 Nov 2026, 21:18 EST"
    assert f"from 3 people since {began};" in while_open  # true while it is open, with its day and zone
    # Still open the next morning: a bare "since 21:18" would read as this evening's.
    with freeze_time(datetime(2026, 11, 20, 14, 0, tzinfo=UTC)):
        next_day = viewer.get(f"/incidents/{incident.pk}/").content.decode()
    assert f"from 3 people since {began};" in next_day

    incident_services.incident_update_status(
        incident=incident, state=IncidentState.RESOLVED, at=datetime(2026, 11, 20, 4, 5, tzinfo=UTC)
    )
    html = viewer.get(f"/incidents/{incident.pk}/").content.decode()
    ended = local_time_text(datetime(2026, 11, 20, 4, 5, tzinfo=UTC))
    assert f"from 3 people between {began} and {ended} (1 h 47 min); most mention" in html
    assert "since 21:18" not in html
    assert "(after 1 h 47 min)" in html  # beside "resolved" at the top
    people = html.split('id="authors-h"')[1].split("</section>")[0]
    assert "Affected people (3)" in people
    assert "sam_k (Reddit)" in people and "2 people on Report-a-problem widget" in people
    for digest in ("2b4ab00f", "81c03e72", "t2_abc"):
        assert digest not in html

    # One person on a channel is "a person on" it; the days are said when it ran past midnight.
    posts[2].delete()
    incident_services.incident_update_status(incident=incident, state=IncidentState.CONFIRMED)
    incident_services.incident_update_status(
        incident=incident, state=IncidentState.RESOLVED, at=datetime(2026, 11, 21, 6, 30, tzinfo=UTC)
    )
    html = viewer.get(f"/incidents/{incident.pk}/").content.decode()
    ended = local_time_text(datetime(2026, 11, 21, 6, 30, tzinfo=UTC))
    assert ended == "21 Nov 2026, 01:30 EST"
    assert f"between {began} and {ended} (1 d 4 h)" in html
    assert "sam_k (Reddit); a person on Report-a-problem widget</p>" in html


@pytest.mark.django_db
def test_the_incident_pages_name_the_zone_in_the_hour_the_clocks_repeat(
    world: dict[str, Any], clients: dict[str, Client], settings: Any
) -> None:
    """The incident pages wrote "Sun 25 Oct 01:30" both for when an incident began (01:30 BST) and when it was
    resolved an hour later (01:30 GMT): the footer's "Europe/London time" cannot tell the two apart."""
    import re
    from datetime import UTC, datetime

    from servicepulse.incidents.models import IncidentKind, IncidentState

    settings.TIME_ZONE = "Europe/London"
    began = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST, an hour before the clocks go back
    incident = incident_services.incident_create(
        service_id=world["services"][0].id,
        title="Moodle down overnight",
        started_at=began,
        kind=IncidentKind.DETECTED,
        state=IncidentState.CONFIRMED,
        at=began + timedelta(minutes=10),
    )
    incident_services.incident_update_status(
        incident=incident,
        state=IncidentState.RESOLVED,
        at=began + timedelta(hours=1),  # 01:30 GMT
    )
    detail = " ".join(
        re.sub(r"<[^>]+>", " ", clients["viewer"].get(f"/incidents/{incident.pk}/").content.decode()).split()
    )
    assert "started 25 Oct 2026, 01:30 BST · resolved 25 Oct 2026, 01:30 GMT (after 1 h)" in detail
    assert "Timeline 25 Oct 2026, 01:40 BST Problem detected" in detail
    assert "25 Oct 2026, 01:30 GMT Resolved" in detail
    listed = " ".join(
        re.sub(r"<[^>]+>", " ", clients["viewer"].get("/incidents/?state=resolved").content.decode()).split()
    )
    assert "25 Oct 2026, 01:30 BST resolved 25 Oct 2026, 01:30 GMT" in listed


@pytest.mark.django_db
def test_a_start_on_a_clock_change_night_is_answered_in_words(
    world: dict[str, Any], clients: dict[str, Client], settings: Any
) -> None:
    """01:30 on 26 Oct 2025 happens twice in Europe/London and 01:30 on 30 Mar 2025 not at all: the form
    answered both with Django's "couldn't be interpreted in time zone Europe/London; it may be ambiguous or it
    may not exist". A repeated time is now taken at its first occurrence, saying so; a skipped one is
    refused, saying the clocks went forward. The labels name the zone the times are read in."""
    from datetime import UTC, datetime

    from servicepulse.incidents.models import Incident

    settings.TIME_ZONE = "Europe/London"
    responder = clients["responder"]
    form = {"kind": "manual", "service": "wifi", "title": "Wi-Fi down in Hopkins Building"}
    page = responder.get("/incidents/").content.decode()
    assert "Start (Europe/London time)" in page and "End (Europe/London time)" in page
    # On the real clock (freezegun's datetimes lose the fold that tells 01:30 BST from 01:30 GMT), so last
    # year's clock changes: an incident opened by hand has already started.
    response = responder.post("/incidents/open/", {**form, "start": "2025-10-26T01:30"}, follow=True)
    shown = response.content.decode().replace("&#x27;", "'")
    assert "couldn" not in shown and "may be ambiguous" not in shown
    opened = Incident.objects.get(title=form["title"])
    assert opened.started_at == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 01:30 BST, the first
    assert (
        "26 Oct 2025, 01:30 happens twice in Europe/London as the clocks go back: it was taken as the first, "
        "26 Oct 2025, 01:30 BST, not the second, 26 Oct 2025, 01:30 GMT (an hour later)."
    ) in shown
    refused = responder.post("/incidents/open/", {**form, "title": "Gap", "start": "2025-03-30T01:30"})
    text = refused.content.decode().replace("&#x27;", "'")
    assert refused.status_code == 400 and not Incident.objects.filter(title="Gap").exists()
    assert (
        "30 Mar 2025, 01:30 does not exist in Europe/London: the clocks went forward that night (GMT to BST), "
        "skipping it. Enter a time outside the skipped hour, for example 30 Mar 2025, 02:30 BST."
    ) in text
    assert "couldn" not in text


@pytest.mark.django_db
def test_the_incident_page_draws_how_it_grew(incident: Any, clients: dict[str, Client]) -> None:
    html = clients["viewer"].get(f"/incidents/{incident.pk}/").content.decode()
    assert '<h2 id="growth-h">How it grew</h2>' in html
    (svg,) = re.findall(
        r'<div class="chart-wide"><svg class="chart" role="img" aria-label="How [^"]*".*?</svg>', html
    )
    label = re.search(r'aria-label="([^"]*)"', svg).group(1)  # type: ignore[union-attr]
    assert label.startswith("How “Moodle failing on deadline night” grew, per 15 minutes from ")
    assert "5 complaints attached" in label and "5 people affected in all" in label
    assert "State changes: opened " in label  # opened by hand: nothing was "confirmed"
    assert f"<title>{label}</title>" in svg
    assert svg.count("<rect ") >= 16  # from a little before its first complaint, 4 hours ago, to now
    assert "complaints per 15 minutes" in html and "people affected so far" in html


@pytest.mark.django_db
def test_an_incident_with_fewer_than_two_complaints_says_so_instead_of_a_chart(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    from servicepulse.incidents.models import IncidentKind

    incident = incident_services.incident_create(
        service_id=world["services"][0].id,
        title="Moodle wobble",
        started_at=timezone.now() - timedelta(minutes=30),
        kind=IncidentKind.DETECTED,
    )
    url = f"/incidents/{incident.pk}/"
    html = clients["viewer"].get(url).content.decode()
    assert "No complaints are attached to this incident yet." in html
    assert 'aria-label="How' not in html and "people affected so far" not in html
    post = world["mentions"][0]
    incident_services.incident_attach_mentions(incident=incident, posts=[(post.pk, post.author_key)])
    html = clients["viewer"].get(url).content.decode()
    assert "One complaint is attached so far, posted between " in html
    assert 'aria-label="How' not in html


@pytest.mark.django_db
def test_a_hand_opened_incident_is_labelled_an_incident_not_a_detected_problem(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    """Incidents a person opened were badged "Problem detected" on the list, their page and their alerts:
    nothing was detected. Open, they are an "Incident"; what detection confirmed stays "Problem detected"."""
    from servicepulse.incidents.models import IncidentKind, IncidentState

    now = timezone.now()
    manual = incident_services.incident_create(
        service_id="student-email", title="Outlook slow for staff", started_at=now - timedelta(minutes=20)
    )
    detected = incident_services.incident_create(
        service_id="vle", title="Moodle VLE: complaints rising", started_at=now, kind=IncidentKind.DETECTED
    )
    incident_services.alert_rule_create(name="desk", channel="email", target="desk@uni.example")
    incident_services.alerts_queue(incident_id=manual.pk, state=IncidentState.CONFIRMED, now=now)

    def badge(text: str, title: str) -> str:
        row = next(r for r in re.findall(r"<tr>.*?</tr>", text, re.S) if title in r)
        return re.search(r'<span class="badge [^"]*">([^<]*)</span>', row).group(1)  # type: ignore[union-attr]

    listing = clients["viewer"].get("/incidents/").content.decode()
    assert badge(listing, "Outlook slow for staff") == "Incident"
    assert badge(listing, "Moodle VLE: complaints rising") == "Problem detected"
    page = clients["viewer"].get(f"/incidents/{manual.pk}/").content.decode()
    heading = re.search(r"<h1>.*?</h1>", page, re.S).group(0)  # type: ignore[union-attr]
    assert re.search(r'<span class="badge incident">Incident</span>\s*</h1>', heading), heading
    assert "desk · Incident ·" in page  # the alert sent about it
    assert "Problem detected" not in page
    assert "Problem detected" in clients["viewer"].get(f"/incidents/{detected.pk}/").content.decode()
    board = clients["viewer"].get("/").content.decode()
    assert '<span class="badge incident">Incident</span>' in board
    # Resolved, it reopens as an incident too.
    incident_services.incident_update_status(incident=manual, state=IncidentState.RESOLVED)
    url = f"/incidents/{manual.pk}/"
    assert '<option value="confirmed">Incident</option>' in clients["responder"].get(url).content.decode()
    reopened = clients["responder"].post(
        f"{url}act/", {"action": "state", "state": "confirmed", "confirm_reopen": "on"}, follow=True
    )
    assert "Reopened as Incident." in html_lib.unescape(reopened.content.decode())


@pytest.mark.django_db
def test_the_problem_detected_filter_lists_what_detection_found_and_opened_by_hand_the_rest(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    """The filter read "Detected" but listed incidents opened by hand too (their state is "confirmed" in the
    state machine's sense). "Problem detected" lists what detection confirmed, as the rows' state says;
    "Opened by hand" lists the desk's own, open or resolved, as "Planned maintenance" lists maintenance."""
    from servicepulse.incidents.models import IncidentKind, IncidentState

    vle, now = world["services"][0], timezone.now()
    detected = incident_services.incident_create(
        service_id=vle.id, title="Moodle uploads failing", started_at=now - timedelta(hours=1),
        kind=IncidentKind.DETECTED,
    )  # fmt: skip
    possible = incident_services.incident_create(
        service_id=vle.id, title="Moodle slow maybe", started_at=now - timedelta(hours=1),
        kind=IncidentKind.DETECTED, state=IncidentState.POSSIBLE,
    )  # fmt: skip
    by_hand = incident_services.incident_create(
        service_id=vle.id, title="Moodle down, phoned in", started_at=now - timedelta(hours=3)
    )
    closed_by_hand = incident_services.incident_create(
        service_id=vle.id, title="Printers jammed, phoned in", started_at=now - timedelta(days=2)
    )
    incident_services.incident_update_status(incident=closed_by_hand, state=IncidentState.RESOLVED)
    titles = [detected.title, possible.title, by_hand.title, closed_by_hand.title]

    def listed(state: str) -> list[str]:
        page = clients["viewer"].get("/incidents/", {"state": state}).content.decode()
        return [title for title in titles if title in page]

    page = clients["viewer"].get("/incidents/").content.decode()
    assert '<option value="confirmed">Problem detected</option>' in page
    assert '<option value="manual">Opened by hand</option>' in page
    assert ">Detected</option>" not in page
    assert listed("confirmed") == [detected.title]
    assert listed("manual") == [by_hand.title, closed_by_hand.title]
    assert listed("open") == [detected.title, possible.title, by_hand.title]


@pytest.mark.django_db
def test_the_incidents_the_list_shows_download_as_csv_in_the_pages_words(
    world: dict[str, Any], clients: dict[str, Client], settings: Any
) -> None:
    """For an incident review or a monthly report: the list's filters, its words for each state, local times,
    minutes run, and a title typed as a formula kept as text."""
    from servicepulse.incidents.models import Incident, IncidentKind, IncidentState

    settings.BASE_URL = "https://pulse.northgate.ac.uk"
    now = timezone.now().replace(second=0, microsecond=0)
    outage = incident_services.incident_create(
        service_id="vle", title="Moodle uploads failing", started_at=now - timedelta(hours=5),
        kind=IncidentKind.DETECTED, at=now - timedelta(hours=4, minutes=40),
    )  # fmt: skip
    incident_services.incident_update_status(incident=outage, state=IncidentState.RESOLVED)
    Incident.objects.filter(pk=outage.pk).update(
        resolved_at=now - timedelta(hours=3, minutes=25), affected_authors=21
    )
    formula = incident_services.incident_create(
        service_id="wifi",
        title='=HYPERLINK("https://evil.example","Eduroam")',
        started_at=now - timedelta(hours=1),
    )
    upgrade = incident_services.maintenance_schedule(
        service_id="vle",
        title="Moodle upgrade",
        start=now + timedelta(days=1),
        end=now + timedelta(days=1, hours=2),
    )
    called_off = incident_services.maintenance_schedule(
        service_id="wifi",
        title="Access point swap",
        start=now + timedelta(days=2),
        end=now + timedelta(days=2, hours=1),
    )
    incident_services.incident_update_status(incident=called_off, state=IncidentState.RESOLVED)

    page = clients["viewer"].get("/incidents/", {"service": "vle"}).content.decode()
    assert 'href="/incidents/export.csv?service=vle" download>Download these incidents (CSV)' in page

    response = clients["viewer"].get("/incidents/export.csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="servicepulse-incidents-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads it as UTF-8
    header, *rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert header == [
        "id", "service", "title", "kind", "state", "start", "confirmed", "end", "planned_end", "minutes",
        "people_affected", "page",
    ]  # fmt: skip
    by_id = {int(row[0]): dict(zip(header, row, strict=True)) for row in rows}
    assert list(by_id) == [called_off.pk, upgrade.pk, formula.pk, outage.pk]  # newest start first, as listed

    assert by_id[outage.pk]["state"] == "Resolved" and by_id[outage.pk]["kind"] == "Detected"
    assert by_id[outage.pk]["start"] == timezone.localtime(outage.started_at).isoformat()
    assert (
        by_id[outage.pk]["confirmed"] == timezone.localtime(now - timedelta(hours=4, minutes=40)).isoformat()
    )
    assert by_id[outage.pk]["minutes"] == "95" and by_id[outage.pk]["people_affected"] == "21"
    assert by_id[outage.pk]["page"] == f"https://pulse.northgate.ac.uk/incidents/{outage.pk}/"
    assert by_id[formula.pk]["title"] == '\'=HYPERLINK("https://evil.example","Eduroam")'
    assert by_id[formula.pk]["state"] == "Incident" and by_id[formula.pk]["end"] == ""
    assert by_id[formula.pk]["minutes"] == ""  # still open
    assert by_id[upgrade.pk]["state"] == "Scheduled" and by_id[upgrade.pk]["planned_end"] != ""
    assert by_id[called_off.pk]["state"] == "Cancelled" and by_id[called_off.pk]["minutes"] == ""

    # The list's filters; a service in the file's name only when it is one.
    vle = clients["viewer"].get("/incidents/export.csv", {"service": "vle", "state": "resolved"})
    assert 'filename="servicepulse-incidents-vle-' in vle["Content-Disposition"]
    assert [row[0] for row in csv.reader(io.StringIO(vle.content.decode("utf-8-sig")))][1:] == [
        str(outage.pk)
    ]
    odd = clients["viewer"].get("/incidents/export.csv", {"service": 'x"; y'})
    assert odd["Content-Disposition"].startswith('attachment; filename="servicepulse-incidents-2')
    assert len(list(csv.reader(io.StringIO(odd.content.decode("utf-8-sig"))))) == 1  # the header alone

    assert Client().get("/incidents/export.csv").status_code == 302  # signed out: to the sign-in page
