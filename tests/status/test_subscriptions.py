"""Per-component e-mail subscriptions: double opt-in and one-click unsubscribe, through a real SMTP server."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from servicepulse.status.links import unsubscribe_token
from servicepulse.status.models import Impact, IncidentStatus, Subscription
from servicepulse.status.services import public_incident_open, public_incident_update
from tests.factories import ServiceFactory
from tests.mailsink import body_of
from tests.status.helpers import EVE_OF_CLOCK_CHANGE, overnight_upgrade

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def components(db):  # type: ignore[no-untyped-def]
    return [ServiceFactory(id="vle", name="Moodle VLE"), ServiceFactory(id="wifi", name="Wi-Fi")]


def _link(text: str, kind: str) -> str:
    match = re.search(rf"http://testserver(/status/{kind}/[^\s]+/)", text)
    assert match, text
    return match.group(1)


def test_double_opt_in_then_notification_then_one_click_unsubscribe(
    client, smtp, immediate_tasks, components
):  # type: ignore[no-untyped-def]
    response = client.post("/status/subscribe/", {"email": "ada@example.ac.uk", "components": ["vle"]})
    assert response.status_code == 200 and b"Check your e-mail" in response.content
    confirm = smtp.wait_for(1)[0]
    assert confirm["To"] == "ada@example.ac.uk"
    assert "Confirm" in confirm["Subject"]
    assert not Subscription.objects.exists()  # nothing stored before the link is followed
    confirm_path = _link(body_of(confirm), "subscribe/confirm")
    # A tampered link is refused.
    assert client.get(confirm_path.replace("/confirm/", "/confirm/x")).status_code == 400
    # Opening the link (as a mail scanner would) confirms nothing: it shows a button.
    response = client.get(confirm_path)
    assert (
        response.status_code == 200
        and b"Moodle VLE" in response.content
        and b"ada@example.ac.uk" in response.content
    )
    assert not Subscription.objects.exists()
    response = client.post(confirm_path)
    assert response.status_code == 200 and b"Subscription confirmed" in response.content
    sub = Subscription.objects.get()
    assert (sub.email, sub.service_id, sub.unsubscribed_at) == ("ada@example.ac.uk", "vle", None)
    client.post(confirm_path)  # confirming twice changes nothing
    assert Subscription.objects.count() == 1

    smtp.clear()
    wifi = public_incident_open(
        title="Wi-Fi down in the library", service_ids=["wifi"], body="Investigating."
    )
    incident = public_incident_open(
        title="Moodle unavailable",
        service_ids=["vle"],
        impact=Impact.MAJOR_OUTAGE,
        body="We are investigating.",
    )
    message = smtp.wait_for(1)[0]
    assert len(smtp.messages) == 1  # not subscribed to Wi-Fi
    assert wifi.pk != incident.pk
    assert message["Subject"] == "[Investigating] Moodle unavailable"
    body = body_of(message)
    assert "We are investigating." in body and f"http://testserver/status/incidents/{incident.pk}/" in body
    header = message["List-Unsubscribe"].strip()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_path = _link(body, "unsubscribe")
    assert header == f"<http://testserver{unsubscribe_path}>"

    # GET shows a button and changes nothing (mail scanners follow links); the RFC 8058 POST unsubscribes,
    # without a session or CSRF token, as a mail client sends it.
    assert client.get(unsubscribe_path).status_code == 200
    assert Subscription.objects.get().unsubscribed_at is None
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(unsubscribe_path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and b"Unsubscribed" in response.content
    assert Subscription.objects.get().unsubscribed_at is not None

    smtp.clear()
    public_incident_update(incident=incident, status=IncidentStatus.RESOLVED, body="Fixed.")
    time.sleep(0.3)
    assert smtp.messages == []


def test_all_components_subscription_and_one_mail_per_address(client, smtp, immediate_tasks, components):  # type: ignore[no-untyped-def]
    client.post("/status/subscribe/", {"email": "bo@example.ac.uk", "all_components": "on"})
    client.post(_link(body_of(smtp.wait_for(1)[0]), "subscribe/confirm"))
    smtp.clear()
    client.post("/status/subscribe/", {"email": "bo@example.ac.uk", "components": ["vle"]})
    client.post(_link(body_of(smtp.wait_for(1)[0]), "subscribe/confirm"))
    assert Subscription.objects.filter(email="bo@example.ac.uk").count() == 2
    smtp.clear()
    public_incident_open(title="Everything slow", service_ids=["vle", "wifi"], body="Slow.")
    smtp.wait_for(1)
    time.sleep(0.3)
    assert len(smtp.messages) == 1  # one e-mail per address, however many subscriptions match


@pytest.mark.usefixtures("rate_limit_window")
def test_confirmations_are_limited_per_sender_and_per_recipient(components) -> None:  # type: ignore[no-untyped-def]
    # Security review: the limit counted only the sender's address, so senders on many addresses together
    # (or one IPv6 host, before addresses were counted by /64) could flood any mailbox with confirmations.
    from django.core import mail

    answers = [
        Client(REMOTE_ADDR=f"198.51.100.{i}").post(
            "/status/subscribe/", {"email": "Victim@Example.ac.uk", "components": ["vle"]}
        )
        for i in range(7)
    ]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    assert len(mail.outbox) == 5
    other = Client(REMOTE_ADDR="198.51.100.1").post(
        "/status/subscribe/", {"email": "someone-else@example.ac.uk", "components": ["vle"]}
    )
    assert other.status_code == 200  # that sender has budget left for another recipient


def test_bad_requests_and_expired_links(client, smtp, components, settings):  # type: ignore[no-untyped-def]
    assert (
        client.post("/status/subscribe/", {"email": "not-an-address", "components": ["vle"]}).status_code
        == 400
    )
    assert client.post("/status/subscribe/", {"email": "a@example.ac.uk"}).status_code == 400  # no component
    # The honeypot field: robots fill it, nothing is sent.
    client.post("/status/subscribe/", {"email": "a@example.ac.uk", "components": ["vle"], "website": "spam"})
    assert smtp.messages == []
    old = signing.dumps(
        {"e": "a@example.ac.uk", "s": ["vle"]}, salt="servicepulse.status.subscribe", compress=True
    )
    with freeze_time(timezone.now() + timedelta(days=4)):
        response = client.get(f"/status/subscribe/confirm/{old}/")
    assert response.status_code == 400 and b"expired" in response.content
    assert client.post("/status/unsubscribe/garbage/").status_code == 400


def test_maintenance_start_and_end_are_announced_once(client, smtp, immediate_tasks, components):  # type: ignore[no-untyped-def]
    from servicepulse.status.models import Subscription
    from servicepulse.status.services import maintenance_notify_due, maintenance_schedule

    Subscription.objects.create(email="cy@example.ac.uk", service_id="vle", confirmed_at=timezone.now())
    start = timezone.now() + timedelta(hours=1)
    maintenance_schedule(
        title="Moodle upgrade", service_ids=["vle"], starts_at=start, ends_at=start + timedelta(hours=2)
    )
    assert smtp.wait_for(1)[0]["Subject"] == "[Scheduled maintenance] Moodle upgrade"
    smtp.clear()
    assert maintenance_notify_due(now=start - timedelta(minutes=5)) == []
    maintenance_notify_due(now=start + timedelta(minutes=5))
    maintenance_notify_due(now=start + timedelta(minutes=10))  # the next run sends nothing again
    started = smtp.wait_for(1)
    time.sleep(0.3)
    assert [m["Subject"] for m in smtp.messages] == ["[Maintenance in progress] Moodle upgrade"]
    assert "Maintenance has started: Moodle upgrade" in body_of(started[0])
    smtp.clear()
    maintenance_notify_due(now=start + timedelta(hours=2, minutes=5))
    assert smtp.wait_for(1)[0]["Subject"] == "[Maintenance completed] Moodle upgrade"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_unsubscribing_says_which_e_mails_stop_and_confirming_says_how_to_stop_later(client, components):  # type: ignore[no-untyped-def]
    # The unsubscribe page was an "Unsubscribe me" button alone, naming neither the address nor what it stopped;
    # "Subscription confirmed" did not say how to stop the e-mails later.
    confirm = signing.dumps(
        {"e": "ada@example.ac.uk", "s": ["vle"]}, salt="servicepulse.status.subscribe", compress=True
    )
    confirmed = _text(client.post(f"/status/subscribe/confirm/{confirm}/"))
    assert "We will e-mail ada@example.ac.uk about: Moodle VLE." in confirmed
    assert "To stop, follow the unsubscribe link at the end of any of these e-mails" in confirmed

    vle = Subscription.objects.get()
    wifi = Subscription.objects.create(
        email="ada@example.ac.uk", service_id="wifi", confirmed_at=timezone.now()
    )
    Subscription.objects.create(email="ada@example.ac.uk", service=None, confirmed_at=timezone.now())
    path = f"/status/unsubscribe/{unsubscribe_token(subscription_ids=[vle.pk, wifi.pk])}/"
    page = client.get(path)
    shown = _text(page)
    assert page.status_code == 200 and "Unsubscribe me" in shown
    assert "Stop the status e-mails to ada@example.ac.uk about:" in shown
    assert (
        "Moodle VLE" in shown and "Wi-Fi" in shown and "every component" not in shown
    )  # only the link's own
    client.post(path, {"List-Unsubscribe": "One-Click"})
    again = _text(client.get(path))
    assert "ada@example.ac.uk no longer receives the e-mails this link was for" in again
    assert "Unsubscribe me" not in again
    assert client.get("/status/unsubscribe/garbage/").status_code == 400  # said at once, not after the button
    gone = signing.dumps(
        {"e": "ada@example.ac.uk", "s": ["old"]}, salt="servicepulse.status.subscribe", compress=True
    )
    assert "Subscription not confirmed" in _text(client.post(f"/status/subscribe/confirm/{gone}/"))


def test_maintenance_e_mail_across_a_clock_change_names_both_time_zones(components, settings):  # type: ignore[no-untyped-def]
    from django.core import mail

    from servicepulse.status.services import subscribers_notify

    settings.TIME_ZONE = "Europe/London"
    Subscription.objects.create(email="cy@example.ac.uk", service_id="vle", confirmed_at=timezone.now())
    # Overnight work across the end of British Summer Time (01:00 UTC, 25 October 2026): 00:30 BST to 02:30 GMT.
    # The e-mail named the zone after the end only, so its start read as 00:30 GMT, an hour later than planned.
    with freeze_time(EVE_OF_CLOCK_CHANGE):
        window = overnight_upgrade()
        mail.outbox.clear()
        assert subscribers_notify(key=f"maintenance:{window.pk}") == 1
    assert "From 25 Oct 2026, 00:30 BST to 25 Oct 2026, 02:30 GMT" in mail.outbox[0].body
