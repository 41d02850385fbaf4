"""The incidents list and an incident's page as a responder reads them: planned maintenance that has not begun,
and every attached post of a big outage."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.core.times import local_time_text
from servicepulse.incidents.models import Incident, IncidentKind, IncidentState
from servicepulse.incidents.services import (
    incident_attach_mentions,
    incident_create,
    maintenance_schedule,
)
from tests.factories import MentionFactory, ServiceFactory, SourceFactory

pytestmark = pytest.mark.django_db


def _row(html: str, title: str) -> str:
    return next(row for row in re.findall(r"<tr>.*?</tr>", html, re.S) if title in row)


def test_maintenance_not_started_yet_is_listed_as_scheduled(clients: dict[str, Client]) -> None:
    ServiceFactory(id="printing", name="Printing")
    now = timezone.now()
    tomorrow = timezone.localtime(now + timedelta(days=1)).replace(hour=7, minute=0, second=0, microsecond=0)
    maintenance_schedule(
        service_id="printing", title="Print server upgrade", start=tomorrow, end=tomorrow + timedelta(hours=2)
    )
    maintenance_schedule(
        service_id="printing",
        title="Toner swap",
        start=now - timedelta(minutes=30),
        end=now + timedelta(hours=1),
    )
    html = clients["viewer"].get("/incidents/").content.decode()
    assert '<th scope="col">Started</th>' not in html  # the column said "Started" above a start still to come
    upcoming = _row(html, "Print server upgrade")
    assert ">Scheduled<" in upcoming and ">Maintenance<" not in upcoming
    assert "planned start" in upcoming
    assert local_time_text(tomorrow) in upcoming
    assert local_time_text(tomorrow + timedelta(hours=2)) in upcoming
    under_way = _row(html, "Toner swap")
    assert ">Maintenance<" in under_way and "planned start" not in under_way
    page = clients["viewer"].get(f"/incidents/{_pk('Print server upgrade')}/").content.decode()
    assert ">Scheduled<" in page.split("</h1>")[0]


def _pk(title: str) -> int:
    from servicepulse.incidents.models import Incident

    return Incident.objects.get(title=title).pk


def test_every_attached_post_can_be_read_page_by_page(clients: dict[str, Client]) -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    source = SourceFactory()
    began = timezone.now() - timedelta(hours=6)
    incident = incident_create(
        service_id="vle",
        title="Moodle VLE: upload errors",
        started_at=began,
        kind=IncidentKind.DETECTED,
        state=IncidentState.CONFIRMED,
    )
    mentions = [
        MentionFactory(
            source=source,
            text=f"moodle upload fails, post number {i:03d}",
            author=f"student{i}",
            created_at=began + timedelta(minutes=i),
        )
        for i in range(60)
    ]
    incident_attach_mentions(incident=incident, posts=[(m.pk, f"s:{m.author}") for m in mentions])
    url = f"/incidents/{incident.pk}/"
    first = clients["viewer"].get(url).content.decode()
    posts = first.split('id="posts-h"')[1].split("</section>")[0]
    assert "post number 000" in posts and "post number 024" in posts and "post number 025" not in posts
    assert "Posts 1–25 of 60" in posts  # noqa: RUF001 - the page's en dash
    assert 'href="?posts=2#posts-h"' in posts  # there was no way to the other 35
    second = clients["viewer"].get(url, {"posts": 2}).content.decode()
    posts = second.split('id="posts-h"')[1].split("</section>")[0]
    assert "post number 024" not in posts and "post number 025" in posts and "post number 049" in posts
    assert 'href="?posts=1#posts-h"' in posts and 'href="?posts=3#posts-h"' in posts
    last = clients["viewer"].get(url, {"posts": 99}).content.decode()  # past the end: the last page
    posts = last.split('id="posts-h"')[1].split("</section>")[0]
    assert "post number 059" in posts and "Posts 51–60 of 60" in posts  # noqa: RUF001
    assert "Later posts" not in posts
    # The rest of the page does not change with the page of posts.
    assert ">60<" in last.split('class="facts card"')[1].split("</dl>")[0]


def test_a_small_incident_shows_its_posts_without_a_pager(clients: dict[str, Client]) -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    source = SourceFactory()
    began = timezone.now() - timedelta(hours=1)
    incident = incident_create(service_id="vle", title="Moodle slow", started_at=began)
    mention = MentionFactory(source=source, text="moodle is slow", created_at=began)
    incident_attach_mentions(incident=incident, posts=[(mention.pk, "s:a")])
    html = clients["viewer"].get(f"/incidents/{incident.pk}/").content.decode()
    assert "moodle is slow" in html and "Pages of attached posts" not in html


def test_an_incident_opened_by_hand_cannot_start_in_the_future(clients: dict[str, Client]) -> None:
    ServiceFactory(id="wifi", name="Wi-Fi")
    tomorrow = timezone.localtime(timezone.now() + timedelta(days=1))
    response = clients["responder"].post(
        "/incidents/open/",
        {"kind": "manual", "service": "wifi", "title": "Wi-Fi down", "start": f"{tomorrow:%Y-%m-%dT%H:%M}"},
    )
    # Opened "confirmed" with tomorrow's start, it alerted at once, no complaint attached to it until then, and
    # detection opened a second incident for the same outage meanwhile.
    assert response.status_code == 400
    html = response.content.decode()
    assert "has already started" in html and "plan a maintenance window" in html
    assert not Incident.objects.filter(title="Wi-Fi down").exists()
    # A minute ahead (a rounded "now", a browser's clock) is now: it has started.
    soon = timezone.localtime(timezone.now() + timedelta(minutes=1))
    response = clients["responder"].post(
        "/incidents/open/",
        {"kind": "manual", "service": "wifi", "title": "Wi-Fi slow", "start": f"{soon:%Y-%m-%dT%H:%M}"},
    )
    assert response.status_code == 302
    assert Incident.objects.get(title="Wi-Fi slow").started_at <= timezone.now()


def test_the_alerts_sent_say_why_one_was_cancelled_and_when_the_others_go(clients: dict[str, Client]) -> None:
    from servicepulse.incidents.models import AlertChannel
    from servicepulse.incidents.services import (
        alert_deliver,
        alert_rule_create,
        alert_rule_set_enabled,
        alerts_queue,
    )
    from tests.replay import ReplayServer, Reply

    ServiceFactory(id="vle", name="Moodle VLE")
    now = timezone.now()
    incident = incident_create(service_id="vle", title="Moodle down", started_at=now - timedelta(minutes=5))
    local = timezone.localtime(now)
    quiet_from = (local - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    quiet_to = (local + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    with ReplayServer({("POST", "/slack"): [Reply(500, body="rollup_error")]}) as server:
        alert_rule_create(
            name="night desk",
            channel=AlertChannel.SLACK,
            target=f"{server.url}/slack",
            quiet_start=quiet_from,
            quiet_end=quiet_to,
        )
        desk = alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        leads = alert_rule_create(name="leads", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        queued = {d.rule_id: d for d in alerts_queue(incident_id=incident.pk, state="confirmed", now=now)}
        alert_deliver(delivery_id=queued[desk.pk].pk, now=now)
        alert_rule_set_enabled(rule=leads, enabled=False)
        alert_deliver(delivery_id=queued[leads.pk].pk, now=now)
    html = clients["viewer"].get(f"/incidents/{incident.pk}/").content.decode()
    alerts = html.split('id="alerts-h"')[1]
    lines = {name: _line(alerts, name) for name in ("night desk", "desk", "leads")}
    # Each said only "Cancelled", "Pending" or "Held for quiet hours": not why, nor when it would go.
    assert "not sent: the alert rule was disabled" in lines["leads"]
    retry = timezone.localtime(now + timedelta(minutes=1))
    assert "Retrying" in lines["desk"] and "next try <time" in lines["desk"]
    assert local_time_text(retry) in lines["desk"] and "rollup_error" in lines["desk"]
    assert "until <time" in lines["night desk"] and f"{quiet_to:%H:%M}" in lines["night desk"]


def _line(html: str, rule: str) -> str:
    return next(li for li in re.findall(r"<li>(.*?)</li>", html, re.S) if li.startswith(f"{rule} ·"))


def test_the_alert_rules_page_says_when_a_held_alert_went_and_whose_clock_quiet_hours_keep(
    clients: dict[str, Client], settings: object
) -> None:
    """An alert held through quiet hours showed "Sent" at the time it was queued, inside the quiet hours, and
    the quiet hours themselves had no time zone (the form asks for them in the organisation's)."""
    from datetime import UTC, datetime, time

    from servicepulse.incidents.models import AlertChannel, AlertDelivery, DeliveryStatus
    from servicepulse.incidents.services import alert_rule_create

    settings.TIME_ZONE = "America/New_York"  # type: ignore[attr-defined]
    service = ServiceFactory(id="wifi", name="Wi-Fi")
    incident = Incident.objects.create(
        service=service,
        title="Wi-Fi: complaints rising",
        state=IncidentState.CONFIRMED,
        started_at=datetime(2026, 11, 28, 4, 0, tzinfo=UTC),
    )
    rule = alert_rule_create(
        name="duty",
        channel=AlertChannel.EMAIL,
        target="duty@example.ac.uk",
        quiet_start=time(22, 0),
        quiet_end=time(7, 0),
    )
    delivery = AlertDelivery.objects.create(
        rule=rule, incident=incident, incident_state=IncidentState.CONFIRMED, status=DeliveryStatus.SENT
    )
    queued = datetime(2026, 11, 28, 4, 10, tzinfo=UTC)  # 23:10 in New York, in the quiet hours
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        created_at=queued, sent_at=datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    )
    row = _row(clients["admin"].get("/alerts/").content.decode(), "duty@example.ac.uk")
    sent = local_time_text(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    assert sent == "28 Nov 2026, 07:00 EST"
    assert "Sent</strong>" in row and sent in row and local_time_text(queued) not in row
    assert "22:00 to 07:00 <small" in row and "America/New_York" in row
