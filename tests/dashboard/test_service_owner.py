"""Read as the owner of one service (the VLE): from its page to its posts, incidents and alert rules and back,
with the filter kept at every step and the same count on each page."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.incidents.models import AlertChannel, AlertRule, IncidentState
from servicepulse.incidents.services import alert_rule_create, incident_create, incident_update_status
from tests import factories
from tests.factories import MentionFactory

SLACK = "https://hooks.slack.com/services/T000/B000/XXXX"


def hrefs(response: Any) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', response.content.decode())]


def words(response: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def analysed(text: str, *, complaint: bool, spam: bool, services: list[tuple[str, float]], hours: int) -> Any:
    mention = MentionFactory(text=text, created_at=timezone.now() - timedelta(hours=hours))
    factories.analysed(mention, complaint=complaint, spam=spam, services=services)
    return mention


def explorer_count(response: Any) -> int:
    found = re.search(r"(\d+)\+? posts?\b", words(response))
    assert found is not None
    return int(found.group(1))


@pytest.mark.django_db
def test_the_week_s_complaint_count_links_to_exactly_the_posts_it_counts(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    # A complaint about the VLE read as spam: the board's counts leave it out, so the explorer must too.
    analysed("moodle down BUY FOLLOWERS", complaint=True, spam=True, services=[("vle", 0.9)], hours=2)
    viewer = clients["viewer"]
    page = viewer.get("/services/vle/")
    counted = page.context["o"].complaints_week
    assert counted == 6
    links = [h for h in hrefs(page) if h.startswith("/mentions/?") and "complaint=yes" in h]
    assert len(links) == 1, "the count of complaints leads nowhere"
    link = links[0]
    assert "service=vle" in link and "spam=no" in link and "since=" in link and "until=" in link
    assert explorer_count(viewer.get(link)) == counted


@pytest.mark.django_db
def test_recent_posts_of_a_service_leave_out_spam(world: dict[str, Any], clients: dict[str, Client]) -> None:
    analysed(
        "Earn 200 a day on moodle, click here", complaint=False, spam=True, services=[("vle", 0.7)], hours=0
    )
    page = clients["viewer"].get("/services/vle/")
    assert "Earn 200 a day" not in page.content.decode()
    assert "moodle is down again" in page.content.decode()
    assert "/mentions/?service=vle&spam=no" in hrefs(page)


@pytest.mark.django_db
def test_service_page_leads_to_its_incidents_even_when_none_is_open(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    incident = incident_create(service_id="vle", title="Quiz timeouts", started_at=timezone.now())
    incident_update_status(incident=incident, state=IncidentState.RESOLVED)
    page = clients["viewer"].get("/services/vle/")
    assert "/incidents/?service=vle" in hrefs(page)
    listed = clients["viewer"].get("/incidents/?service=vle")
    assert "Quiz timeouts" in listed.content.decode()
    # From the list, each row's service leads to its page; from the incident, the crumb leads back to the
    # service's incidents, not to every service's.
    assert "/services/vle/" in hrefs(listed)
    detail = clients["viewer"].get(f"/incidents/{incident.pk}/")
    assert "/incidents/?service=vle" in hrefs(detail)
    assert "/services/vle/" in hrefs(detail)


@pytest.mark.django_db
def test_opening_an_incident_from_a_service_s_list_starts_on_that_service(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    page = clients["responder"].get("/incidents/?service=wifi").content.decode()
    form = re.search(r'<select name="service"[^>]*id="id_service".*?</select>', page, re.S)
    assert form is not None
    assert '<option value="wifi" selected>' in form.group(0)


@pytest.mark.django_db
def test_service_page_says_who_is_alerted_about_it(world: dict[str, Any], clients: dict[str, Client]) -> None:
    page = clients["admin"].get("/services/vle/")
    assert "No alert rule covers Moodle VLE" in words(page)
    assert "/alerts/?service=vle" in hrefs(page)
    alert_rule_create(name="VLE team", channel=AlertChannel.SLACK, target=SLACK, service_ids=["vle"])
    alert_rule_create(name="Everyone", channel=AlertChannel.SLACK, target=SLACK)
    alert_rule_create(name="Network team", channel=AlertChannel.SLACK, target=SLACK, service_ids=["wifi"])
    text = words(clients["viewer"].get("/services/vle/"))
    assert "VLE team" in text and "Everyone" in text and "Network team" not in text
    assert "this service only" in text and "every service" in text
    # Only admins manage alert rules: a viewer is not sent to a page that refuses them.
    assert "/alerts/?service=vle" not in hrefs(clients["viewer"].get("/services/vle/"))


@pytest.mark.django_db
def test_alert_rules_narrowed_to_a_service_and_kept_through_the_forms(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    alert_rule_create(name="VLE team", channel=AlertChannel.SLACK, target=SLACK, service_ids=["vle"])
    alert_rule_create(name="Everyone", channel=AlertChannel.SLACK, target=SLACK)
    network = alert_rule_create(
        name="Network team", channel=AlertChannel.SLACK, target=SLACK, service_ids=["wifi"]
    )
    admin = clients["admin"]
    page = admin.get("/alerts/?service=vle")
    rules = [str(r) for r in page.context["rows"]]
    assert rules == ["Everyone", "VLE team"]
    assert "Alert rules for Moodle VLE" in words(page)
    # A new rule starts with the service ticked.
    assert re.search(r'<input type="checkbox" name="services" value="vle"[^>]*checked', page.content.decode())
    created = admin.post(
        "/alerts/",
        {
            "action": "create",
            "service": "vle",
            "name": "VLE on call",
            "channel": "slack",
            "target": SLACK,
            "services": ["vle"],
            "min_state": "possible",
        },
    )
    assert created.status_code == 302 and created["Location"] == "/alerts/?service=vle"
    assert AlertRule.objects.get(name="VLE on call").services.get().pk == "vle"
    disabled = admin.post("/alerts/", {"action": "disable", "rule": network.pk, "service": "vle"})
    assert disabled["Location"] == "/alerts/?service=vle"
    # An unknown service shows every rule and says why.
    unknown = admin.get("/alerts/?service=no-such")
    assert len(unknown.context["rows"]) == 4 and "No service has the id" in words(unknown)


@pytest.mark.django_db
def test_explorer_export_holds_the_filtered_posts(world: dict[str, Any], clients: dict[str, Client]) -> None:
    analysed('=HYPERLINK("http://evil") moodle', complaint=True, spam=False, services=[("vle", 0.9)], hours=1)
    viewer = clients["viewer"]
    page = viewer.get("/mentions/?service=vle&complaint=yes&page=1")
    exports = [h for h in hrefs(page) if h.startswith("/mentions/export.csv")]
    assert exports == ["/mentions/export.csv?service=vle&complaint=yes"]
    response = viewer.get(exports[0])
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "servicepulse-posts-vle-" in response["Content-Disposition"]
    assert response.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == explorer_count(page) == 7
    assert all("Moodle VLE" in row["services"] and row["complaint"] == "yes" for row in rows)
    # A cell a spreadsheet would run as a formula is written as text.
    assert any(row["text"].startswith("'=HYPERLINK") for row in rows)
    assert not any(row["text"].startswith("=") for row in rows)
