"""The responder pages of the status page: forms that keep what was typed, read-only pages for viewers, and
no server error from a bad id, number or choice anywhere in the status app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern
from django.utils import timezone
from freezegun import freeze_time

from servicepulse.incidents.models import IncidentKind, IncidentState
from servicepulse.incidents.services import incident_create
from servicepulse.status import urls as status_urls
from servicepulse.status.models import IncidentStatus, Maintenance, PublicIncident
from servicepulse.status.services import (
    maintenance_schedule,
    public_incident_open,
    public_incident_update,
)
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    ServiceFactory(id="vle", name="Moodle VLE", order=1)
    ServiceFactory(id="wifi", name="Wi-Fi", order=2)
    now = timezone.now()
    incident = public_incident_open(title="Moodle slow", service_ids=["vle"], body="Looking into it.")
    window = maintenance_schedule(
        title="Wi-Fi upgrade",
        service_ids=["wifi"],
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2),
    )
    detected = incident_create(
        service_id="vle",
        title="Moodle VLE: complaints rising",
        started_at=datetime(2026, 11, 20, 21, 5, tzinfo=UTC),
        kind=IncidentKind.DETECTED,
        state=IncidentState.CONFIRMED,
    )
    return {"incident": incident, "maintenance": window, "detected": detected}


def _ids(html: str) -> list[str]:
    return re.findall(r'\sid="([^"]+)"', html)


# --- 1. a form with an error is shown again, as typed, each error beside its field ----------------------


def test_an_incident_without_components_is_shown_again_as_typed(client, users, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["responder"])
    response = client.post(
        "/status/manage/incidents/new/",
        {
            "title": "Moodle & Turnitin down",
            "impact": "major_outage",
            "status": "identified",
            "body": "A <b>db</b>",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400 and PublicIncident.objects.count() == 1  # only the fixture's
    assert 'value="Moodle &amp; Turnitin down"' in html  # what was typed is kept (escaped)
    assert "A &lt;b&gt;db&lt;/b&gt;</textarea>" in html
    assert re.search(r'<option value="major_outage" selected>', html)
    assert re.search(r'<option value="identified" selected>', html)
    # The error sits beside the components, named by their label; never the raw field name.
    assert (
        '<p class="error" id="incident_components_error">Components: Choose at least one component.</p>'
        in html
    )
    assert '<a href="#incident_components">Components</a>: Choose at least one component.' in html
    assert "components: This field is required" not in html
    assert len(_ids(html)) == len(set(_ids(html)))  # the two forms' labels point at their own fields


def test_the_browser_enforces_what_it_can(client, users, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["responder"])
    html = client.get("/status/manage/").content.decode()
    for field_id in ("incident_title", "incident_body", "maintenance_title", "maintenance_starts_at"):
        tag = re.search(rf'<(?:input|textarea)[^>]*id="{field_id}"[^>]*>', html)
        assert tag is not None and " required" in tag.group(0), field_id
    # A browser cannot require "one of these checkboxes": the rule is written beside them instead.
    assert (
        '<small id="incident_components_helptext" class="muted">Choose at least one component.</small>'
        in html
    )


def test_maintenance_with_a_bad_time_is_shown_again_as_typed(client, users, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["responder"])
    data = {
        "title": "Core switch swap",
        "components": ["wifi"],
        "starts_at": "tomorrow-ish",
        "ends_at": "2026-12-01T10:00",
        "body": "Brief outages.",
    }
    response = client.post("/status/manage/maintenance/new/", data)
    html = response.content.decode()
    assert response.status_code == 400 and Maintenance.objects.count() == 1
    assert 'value="Core switch swap"' in html and 'value="tomorrow-ish"' in html
    assert 'value="2026-12-01T10:00"' in html and "Brief outages.</textarea>" in html
    assert re.search(r'<input type="checkbox" name="components" value="wifi"[^>]*checked', html)
    assert "Starts at (Europe/London time): Enter a date and time, for example 2026-11-20 21:00." in html
    assert "starts_at:" not in html
    # An end before the start is an error of the end field, not a bare message.
    data.update(starts_at="2026-12-01T12:00")
    html = client.post("/status/manage/maintenance/new/", data).content.decode()
    assert (
        "Ends at (Europe/London time): The window must end after it starts." in html
        and Maintenance.objects.count() == 1
    )
    data.update(starts_at="2026-12-01T08:00")
    response = client.post("/status/manage/maintenance/new/", data)
    assert response.status_code == 302 and Maintenance.objects.count() == 2


def test_a_bad_update_is_shown_again_as_typed(client, users, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["responder"])
    url = f"/status/manage/incidents/{world['incident'].pk}/"
    response = client.post(url, {"status": "nonsense", "impact": "degraded", "body": "Found it."})
    html = response.content.decode()
    assert response.status_code == 400 and "Found it.</textarea>" in html
    assert "Status: Select a valid choice. nonsense is not one of the available choices." in html
    assert world["incident"].updates.count() == 1


# --- 2. viewers read; responders and admins act ----------------------------------------------------------


def _forms(html: str) -> list[str]:
    """The page's forms, but the header's sign-out."""
    return [f for f in re.findall(r"<form[^>]*>", html) if "/accounts/logout/" not in f]


def test_a_viewer_sees_the_manage_pages_read_only(client, users, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["viewer"])
    html = client.get("/status/manage/").content.decode()
    assert "Moodle slow" in html and "Wi-Fi upgrade" in html and "Moodle VLE: complaints rising" in html
    assert _forms(html) == [] and "<button" not in html.split('<main id="main">')[1]
    for text in ("Post an incident", "Schedule maintenance", "Cancel", "Review and publish"):
        assert text not in html
    assert "Responders and admins can post incidents" in html
    page = client.get(f"/status/manage/incidents/{world['incident'].pk}/").content.decode()
    assert (
        "Looking into it." in page and _forms(page) == [] and "Responders and admins can post updates" in page
    )
    # The server still refuses a viewer's POST.
    new = {"title": "x", "components": ["vle"], "impact": "degraded", "status": "investigating", "body": "x"}
    assert client.post("/status/manage/incidents/new/", new).status_code == 403
    update = {"status": "identified", "impact": "degraded", "body": "x"}
    assert client.post(f"/status/manage/incidents/{world['incident'].pk}/", update).status_code == 403
    cancel = f"/status/manage/maintenance/{world['maintenance'].pk}/cancel/"
    assert client.post(cancel).status_code == 403
    assert client.get(f"/status/manage/from-incident/{world['detected'].pk}/").status_code == 403
    assert PublicIncident.objects.count() == 1 and world["incident"].updates.count() == 1


@pytest.mark.parametrize("role", ["responder", "admin"])
def test_responders_and_admins_get_the_forms(client, users, world, role) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users[role])
    html = client.get("/status/manage/").content.decode()
    for text in ("Post an incident", "Schedule maintenance", "Cancel", "Review and publish"):
        assert text in html
    assert "Responders and admins can post" not in html
    page = client.get(f"/status/manage/incidents/{world['incident'].pk}/").content.decode()
    assert "Post update" in page


# --- 4. a bad id, number or choice gives 400/404, never 500 ---------------------------------------------

BAD = ["abc", "0", "-1", "1.5", "99999999999999999999", "%00", "..", "x" * 300]
BAD_FORM = {
    "title": "x" * 500,
    "body": "\x00",
    "components": ["abc", "99999999999999999999"],
    "impact": "abc",
    "status": "abc",
    "starts_at": "abc",
    "ends_at": "99999-99-99T99:99",
    "resolved_body": "x",
    "email": "abc",
    "all_components": "abc",
    "page": "abc",
    "next": "https://evil.example/",
}
QUERY = "?page=abc&page=-1&component=abc&label=" + "x" * 500 + "&next=//evil.example/"


def _routes() -> list[str]:
    return [str(p.pattern) for p in status_urls.urlpatterns if isinstance(p, URLPattern)]


def _urls(route: str, real: dict[str, list[str]]) -> list[str]:
    """The route with each <converter:name> filled with every bad value and the real ones."""
    params = re.findall(r"<(?:\w+:)?(\w+)>", route)
    if not params:
        return ["/status/" + route]
    values = [quote(v, safe="%") for v in BAD] + real.get(params[0], [])
    return ["/status/" + re.sub(r"<[^>]+>", v, route) for v in values]


@pytest.mark.parametrize("role", [None, "viewer", "responder"])
def test_every_status_url_answers_bad_values_without_a_server_error(users, world, role) -> None:  # type: ignore[no-untyped-def]
    client = Client(raise_request_exception=False)
    if role:
        client.force_login(users[role])
    real = {
        "pk": [str(world["incident"].pk), str(world["maintenance"].pk)],
        "incident_id": [str(world["detected"].pk)],
        "service_id": ["vle"],
        "token": ["abc.def:ghi"],
    }
    walked, failures = 0, []
    for route in _routes():
        for url in _urls(route, real):
            for method, response in (
                ("GET", client.get(url + QUERY)),
                ("POST", client.post(url + QUERY, BAD_FORM)),
                ("POST (empty)", client.post(url)),
            ):
                walked += 1
                if response.status_code >= 500:
                    failures.append(f"{method} {url}: {response.status_code}")
                location = response.get("Location", "")
                if location.startswith(("http", "//")) and "evil.example" in location:
                    failures.append(f"{method} {url}: redirects off-site to {location}")
    assert walked > 200 and failures == []


def test_publishing_returns_only_to_this_site(client, users, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["responder"])
    PublicIncident.objects.filter(pk=world["incident"].pk).update(detected_incident_id=world["detected"].pk)
    url = f"/status/manage/from-incident/{world['detected'].pk}/"
    assert client.post(url, {"next": "https://evil.example/"})["Location"] == "/status/manage/"
    assert client.post(url, {"next": "/incidents/1/"})["Location"] == "/incidents/1/"


def test_a_double_clicked_update_is_posted_and_emailed_once(
    client, users, world, immediate_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """Two clicks on "Post update" posted the update twice and e-mailed every subscriber twice; a double
    click on "Resolved" answered the second click with a bare 400 page. The second click now changes nothing
    and says so; the first says how many subscribers it reaches."""
    from django.core import mail

    from servicepulse.status.models import Subscription

    Subscription.objects.create(email="stu@example.ac.uk", service_id="vle", confirmed_at=timezone.now())
    incident = world["incident"]
    client.force_login(users["responder"])
    url = f"/status/manage/incidents/{incident.pk}/"
    for status in ("identified", "resolved"):
        form = {"status": status, "impact": "degraded", "body": f"Now {status}."}
        with django_capture_on_commit_callbacks(execute=True):
            first = client.post(url, form, follow=True)
            second = client.post(url, form, follow=True)
        assert "Update posted. It is being e-mailed to 1 subscriber." in first.content.decode()
        assert second.status_code == 200
        assert "This update was already posted at" in second.content.decode()
    assert list(incident.updates.order_by("created_at").values_list("status", flat=True)) == [
        "investigating",
        "identified",
        "resolved",
    ]
    assert [m.subject for m in mail.outbox] == ["[Identified] Moodle slow", "[Resolved] Moodle slow"]


def test_a_double_clicked_new_incident_or_maintenance_is_posted_and_emailed_once(
    client, users, world, immediate_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """Two clicks on "Post incident" or "Schedule maintenance" made two incidents (or windows) and two
    e-mails to every subscriber. The second is refused, saying when the first was posted, its text kept."""
    from django.core import mail

    from servicepulse.status.models import Maintenance, Subscription

    Subscription.objects.create(email="stu@example.ac.uk", service_id="wifi", confirmed_at=timezone.now())
    client.force_login(users["responder"])
    incident = {
        "title": "Eduroam down in halls",
        "components": ["wifi"],
        "impact": "major_outage",
        "status": "investigating",
        "body": "We are looking into it.",
    }
    window = {
        "title": "Core switch swap",
        "components": ["wifi"],
        "starts_at": "2026-12-01T08:00",
        "ends_at": "2026-12-01T10:00",
        "body": "Brief outages.",
    }
    for url, form, model in (
        ("/status/manage/incidents/new/", incident, PublicIncident),
        ("/status/manage/maintenance/new/", window, Maintenance),
    ):
        before = model.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, form).status_code == 302
            second = client.post(url, form)
        html = second.content.decode()
        assert second.status_code == 400 and model.objects.count() == before + 1
        assert f"“{form['title']}” was already " in html and 'value="' + form["title"] + '"' in html
    assert [m.subject for m in mail.outbox] == [
        "[Investigating] Eduroam down in halls",
        "[Scheduled maintenance] Core switch swap",
    ]
    # Not a double click: the same title for other components, or the window at other times.
    assert (
        client.post("/status/manage/incidents/new/", {**incident, "components": ["vle"]}).status_code == 302
    )
    later = {**window, "starts_at": "2026-12-02T08:00", "ends_at": "2026-12-02T10:00"}
    assert client.post("/status/manage/maintenance/new/", later).status_code == 302


def _shown(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_manage_pages_name_the_time_zone_of_every_time(client, users, settings) -> None:  # type: ignore[no-untyped-def]
    """The responder pages wrote "25 Oct 00:30" with no zone, while the public pages say "BST" or "GMT": across
    a clock change a window's start and end are in different offsets (the footer names only "Europe/London")."""
    settings.TIME_ZONE = "Europe/London"
    ServiceFactory(id="vle", name="Moodle VLE", order=1)
    ServiceFactory(id="wifi", name="Wi-Fi", order=2)
    with freeze_time(datetime(2026, 10, 24, 12, 0, tzinfo=UTC)):
        public_incident_open(title="Moodle slow", service_ids=["vle"], body="Looking into it.")
        over = public_incident_open(title="Wi-Fi down", service_ids=["wifi"], body="Looking into it.")
        public_incident_update(incident=over, status=IncidentStatus.RESOLVED, body="Fixed.")
        # Overnight work across the end of British Summer Time (01:00 UTC, 25 October 2026).
        maintenance_schedule(
            title="Moodle upgrade",
            service_ids=["vle"],
            starts_at=datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
            ends_at=datetime(2026, 10, 25, 2, 30, tzinfo=UTC),
        )
        detected = incident_create(
            service_id="vle",
            title="Moodle VLE: complaints rising",
            started_at=datetime(2026, 10, 24, 10, 5, tzinfo=UTC),
            kind=IncidentKind.DETECTED,
            state=IncidentState.CONFIRMED,
        )
        client.force_login(users["responder"])
        manage = _shown(client.get("/status/manage/").content.decode())
        review = _shown(client.get(f"/status/manage/from-incident/{detected.pk}/").content.decode())
    assert "Moodle slow Investigating Degraded performance 24 Oct 2026, 13:00 BST" in manage
    assert "Moodle VLE: complaints rising Detected Moodle VLE 0 24 Oct 2026, 11:05 BST" in manage
    assert "Moodle upgrade \u2014 Scheduled, 25 Oct 2026, 00:30 BST \u2013 25 Oct 2026, 02:30 GMT" in manage
    assert "Wi-Fi down ( 24 Oct 2026, 13:00 BST )" in manage
    assert "since 24 Oct 2026, 11:05 BST" in review


def test_incidents_not_yet_public_name_their_service_and_start(client, users, settings) -> None:  # type: ignore[no-untyped-def]
    """Two incidents opened by hand with the same title on different services showed as two identical rows,
    with no service, under "Detected incidents not yet public" although nothing detected them."""
    settings.TIME_ZONE = "Europe/London"
    ServiceFactory(id="wifi", name="Wi-Fi", order=1)
    ServiceFactory(id="eduroam", name="eduroam", order=2)
    with freeze_time(datetime(2026, 11, 20, 12, 0, tzinfo=UTC)):
        for service_id, hour in (("wifi", 9), ("eduroam", 10)):
            incident_create(
                service_id=service_id,
                title="Wi-Fi down in Hopkins Building",
                started_at=datetime(2026, 11, 20, hour, 15, tzinfo=UTC),
            )
        client.force_login(users["viewer"])
        manage = _shown(client.get("/status/manage/").content.decode())
    assert "Detected incidents" not in manage
    assert "Incidents not yet on the status page" in manage
    assert "Wi-Fi down in Hopkins Building Opened by hand eduroam 0 20 Nov 2026, 10:15 GMT" in manage
    assert "Wi-Fi down in Hopkins Building Opened by hand Wi-Fi 0 20 Nov 2026, 09:15 GMT" in manage


def test_maintenance_on_a_clock_change_night_is_answered_in_words(client, users, world, settings) -> None:  # type: ignore[no-untyped-def]
    """The maintenance form shares the incidents form's field: a time the clocks repeat is taken at its first
    occurrence, saying so, and one they skip is refused, saying why (not Django's "may be ambiguous")."""
    settings.TIME_ZONE = "Europe/London"
    client.force_login(users["responder"])
    data = {"title": "Core switch swap", "components": ["wifi"], "body": ""}
    with freeze_time(datetime(2026, 10, 20, 12, 0, tzinfo=UTC)):
        page = client.get("/status/manage/").content.decode()
        assert "Starts at (Europe/London time)" in page and "Ends at (Europe/London time)" in page
        response = client.post(
            "/status/manage/maintenance/new/",
            {**data, "starts_at": "2026-10-25T01:30", "ends_at": "2026-10-25T03:00"},
            follow=True,
        )
    window = Maintenance.objects.get(title="Core switch swap")
    assert window.starts_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    assert "it was taken as the first, 25 Oct 2026, 01:30 BST" in response.content.decode()
    with freeze_time(datetime(2026, 3, 20, 12, 0, tzinfo=UTC)):
        refused = client.post(
            "/status/manage/maintenance/new/",
            {**data, "title": "Gap", "starts_at": "2026-03-29T01:15", "ends_at": "2026-03-29T04:00"},
        )
    html = refused.content.decode()
    assert refused.status_code == 400 and not Maintenance.objects.filter(title="Gap").exists()
    assert "29 Mar 2026, 01:15 does not exist in Europe/London: the clocks went forward that night" in html
    assert "may be ambiguous" not in html
