"""Everything the public sees works signed out: page, incident page, Atom feed, JSON summary, badges."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import pytest
from django.utils import timezone

from servicepulse.status.models import Impact, IncidentStatus, Maintenance
from servicepulse.status.services import maintenance_schedule, public_incident_open, public_incident_update
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def incident(settings):  # type: ignore[no-untyped-def]
    settings.BASE_URL = "http://testserver"
    ServiceFactory(id="vle", name="Moodle VLE", order=1)
    ServiceFactory(id="email", name="Student e-mail", order=2)
    ServiceFactory(id="payroll", name="Payroll", public=False)
    incident = public_incident_open(
        title="Moodle & assignments failing",
        service_ids=["vle"],
        impact=Impact.MAJOR_OUTAGE,
        body="Investigating <b>",
    )
    public_incident_update(incident=incident, status=IncidentStatus.IDENTIFIED, body="Storage full.")
    now = timezone.now()
    maintenance_schedule(
        title="Mail upgrade",
        service_ids=["email"],
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2),
    )
    return incident


def test_status_page_signed_out(client, incident) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/status/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Moodle VLE" in html and "Student e-mail" in html and "Payroll" not in html
    assert "Major system outage" in html
    assert "Moodle &amp; assignments failing" in html
    assert "Investigating &lt;b&gt;" in html  # escaped
    assert "Mail upgrade" in html
    assert "last 90 days" in html
    assert html.count('class="visually-hidden"') == 2 * 90
    assert response["Cache-Control"] == "public, max-age=60"
    assert client.get(f"/status/incidents/{incident.pk}/").status_code == 200


def test_status_page_query_count_and_private_when_signed_in(
    client, users, incident, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for i in range(10):
        ServiceFactory(id=f"svc-{i}", name=f"Service {i}")
    with django_assert_max_num_queries(17):  # constant (one for the first posts): not per component or day
        assert client.get("/status/").status_code == 200
    client.force_login(users["viewer"])
    response = client.get("/status/")
    assert response["Cache-Control"] == "private, no-store"
    assert "viewer" in response.content.decode()


def test_maintenance_page_is_cached_like_the_other_public_pages(client, users, incident) -> None:  # type: ignore[no-untyped-def]
    window = Maintenance.objects.get(title="Mail upgrade")
    response = client.get(f"/status/maintenance/{window.pk}/")
    assert response.status_code == 200 and "Student e-mail" in response.content.decode()
    assert response["Cache-Control"] == "public, max-age=60"
    client.force_login(users["viewer"])
    assert client.get(f"/status/maintenance/{window.pk}/")["Cache-Control"] == "private, no-store"


def test_atom_feed_is_rfc4287(client, incident) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/status/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}") is not None and root.find(f"{ATOM}{name}").text
    links = {link.get("rel", "alternate"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"] == "http://testserver/status/feed/"
    assert root.find(f"{ATOM}author/{ATOM}name") is not None  # feed-level author: entries need none
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{name}").text
        alternate = [lk for lk in entry.findall(f"{ATOM}link") if lk.get("rel", "alternate") == "alternate"]
        assert alternate and alternate[0].get("href").startswith("http://testserver/status/")
        assert entry.find(f"{ATOM}summary") is not None or entry.find(f"{ATOM}content") is not None
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    titles = [e.title for e in parsed.entries]
    assert "Moodle & assignments failing" in titles and "Maintenance: Mail upgrade" in titles
    moodle = next(e for e in parsed.entries if e.title.startswith("Moodle"))
    assert "Storage full." in moodle.summary and "Identified" in moodle.summary


def test_summary_json_with_cors(client, incident) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/status/summary.json", HTTP_ORIGIN="https://portal.example.ac.uk")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response["Cache-Control"]
    data = response.json()
    assert data["status"] == {"indicator": "critical", "description": "Major system outage"}
    components = {c["id"]: c["status"] for c in data["components"]}
    assert components == {"vle": "major_outage", "email": "operational"}
    assert data["incidents"][0]["name"] == "Moodle & assignments failing"
    assert [u["status"] for u in data["incidents"][0]["incident_updates"]] == ["identified", "investigating"]
    assert data["scheduled_maintenances"][0]["status"] == "scheduled"


def test_badge_svg(client, incident) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/status/badge/vle.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "max-age" in response["Cache-Control"]
    svg = ET.fromstring(response.content)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("role") == "img" and svg.get("aria-label") == "Moodle VLE: major outage"
    assert svg.find("{http://www.w3.org/2000/svg}title").text == "Moodle VLE: major outage"
    ok = ET.fromstring(client.get("/status/badge/email.svg?label=Mail").content)
    assert ok.get("aria-label") == "Mail: operational"
    assert client.get("/status/badge/payroll.svg").status_code == 404
    assert client.get("/status/badge/nope.svg").status_code == 404


def test_manage_pages_need_roles(client, users, incident) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/status/manage/").status_code == 302
    client.force_login(users["viewer"])
    assert client.get("/status/manage/").status_code == 200
    response = client.post(
        f"/status/manage/incidents/{incident.pk}/", {"status": "resolved", "impact": "degraded", "body": "x"}
    )
    assert response.status_code == 403
    client.force_login(users["responder"])
    response = client.post(
        f"/status/manage/incidents/{incident.pk}/",
        {"status": "resolved", "impact": "degraded", "body": "Fixed."},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "resolved"
    response = client.post(
        "/status/manage/incidents/new/",
        {
            "title": "Wi-Fi slow",
            "components": ["email"],
            "impact": "degraded",
            "status": "investigating",
            "body": "Hm",
        },
    )
    assert response.status_code == 302
    assert client.get("/status/summary.json").json()["components"][1]["status"] == "degraded"


def test_past_incidents_are_listed_newest_first(client) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.status.models import PublicIncident

    ServiceFactory(id="wifi", name="Wi-Fi")
    now = timezone.now()
    # Started in this order; ended in the other (the incident report of a long outage published late).
    for title, started, ended in (("Long outage", 9, 1), ("Short blip", 3, 2)):
        incident = public_incident_open(
            title=title,
            service_ids=["wifi"],
            impact=Impact.DEGRADED,
            body="Looking.",
            at=now - timedelta(days=started),
        )
        public_incident_update(incident=incident, status=IncidentStatus.RESOLVED, body="Fixed.")
        PublicIncident.objects.filter(pk=incident.pk).update(resolved_at=now - timedelta(days=ended))
    html = client.get("/status/").content.decode()
    assert html.index("Long outage") < html.index("Short blip")


def test_maintenance_of_internal_services_stays_off_the_public_pages(
    client, incident, immediate_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """A window may cover internal services (to keep their detection quiet). Their names were on the public
    page, its feed, summary.json and the subscribers' e-mails; a window of internal services only was listed
    publicly and e-mailed to every subscriber of all components."""
    from django.core import mail

    from servicepulse.status.models import Subscription

    Subscription.objects.create(email="all@example.ac.uk", service=None, confirmed_at=timezone.now())
    start = timezone.now() + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        internal = maintenance_schedule(
            title="Payroll database patch",
            service_ids=["payroll"],
            starts_at=start,
            ends_at=start + timedelta(hours=1),
        )
        mixed = maintenance_schedule(
            title="Storage array swap",
            service_ids=["vle", "payroll"],
            starts_at=start,
            ends_at=start + timedelta(hours=1),
        )
    public_texts = [
        client.get("/status/").content.decode(),
        client.get("/status/feed/").content.decode(),
        client.get("/status/summary.json").content.decode(),
        client.get(f"/status/maintenance/{mixed.pk}/").content.decode(),
        *[m.body for m in mail.outbox],
    ]
    for text in public_texts:
        assert "Payroll" not in text and "payroll" not in text
    assert "Storage array swap" in public_texts[0] and "Moodle VLE" in public_texts[3]
    assert client.get(f"/status/maintenance/{internal.pk}/").status_code == 404
    assert [m.subject for m in mail.outbox] == ["[Scheduled maintenance] Storage array swap"]


def test_incidents_name_no_service_made_internal_since(client, users, incident) -> None:  # type: ignore[no-untyped-def]
    """A service made internal (catalogue: public off) after incidents were posted about it left the status
    page, its badge and the components list, but its name stayed on those incidents for anyone to read: the
    page, the incident page, the feed and summary.json (with its id). An incident of no public service any
    more is gone from the public pages; the staff's pages still show every incident with every service."""
    from servicepulse.catalog.models import Service

    ServiceFactory(id="ldap", name="Staff directory sync", order=3)
    mixed = public_incident_open(
        title="Sign-in failing", service_ids=["vle", "ldap"], impact=Impact.DEGRADED, body="Looking."
    )
    only = public_incident_open(
        title="Directory jobs stuck", service_ids=["ldap"], impact=Impact.DEGRADED, body="Looking."
    )
    Service.objects.filter(id="ldap").update(public=False)
    public_texts = [
        client.get("/status/").content.decode(),
        client.get(f"/status/incidents/{mixed.pk}/").content.decode(),
        client.get("/status/feed/").content.decode(),
        client.get("/status/summary.json").content.decode(),
    ]
    for text in public_texts:
        assert "Staff directory sync" not in text and '"ldap"' not in text
    assert "Sign-in failing" in public_texts[0] and "Moodle VLE" in public_texts[1]
    assert "Directory jobs stuck" not in public_texts[0] + public_texts[2] + public_texts[3]
    assert client.get(f"/status/incidents/{only.pk}/").status_code == 404
    summary = client.get("/status/summary.json").json()
    assert next(i for i in summary["incidents"] if i["id"] == mixed.pk)["components"] == ["vle"]
    client.force_login(users["responder"])
    assert "Directory jobs stuck" in client.get("/status/manage/").content.decode()
    assert "Directory jobs stuck" in client.get(f"/status/manage/incidents/{only.pk}/").content.decode()


def test_publicly_cached_pages_set_no_cookie(client, incident) -> None:  # type: ignore[no-untyped-def]
    """The status pages are `public, max-age=60` for signed-out visitors, so a shared cache (a CDN, a reverse
    proxy) may keep one answer for everyone: it carried a Set-Cookie of a fresh csrftoken, and every visitor
    served from the cache was given the same CSRF secret, one an attacker could read by fetching the page."""
    window = Maintenance.objects.get(title="Mail upgrade")
    for path in ["/status/", f"/status/incidents/{incident.pk}/", f"/status/maintenance/{window.pk}/"]:
        response = client.get(path)
        assert response.status_code == 200 and response["Cache-Control"] == "public, max-age=60"
        assert not response.cookies, f"{path} sets {list(response.cookies)}"
    assert "<form" in client.get("/status/").content.decode()  # the subscribe form is still there
