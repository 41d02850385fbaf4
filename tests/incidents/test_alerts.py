"""Alerts through every channel against local servers: Slack, Teams, signed webhook, e-mail (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from servicepulse.incidents import alerts, services
from servicepulse.incidents.models import (
    AlertChannel,
    AlertDelivery,
    DeliveryStatus,
    Incident,
    IncidentKind,
    IncidentState,
)
from tests.factories import ServiceFactory
from tests.mailsink import MailSink
from tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db
NOON = datetime(2025, 10, 16, 12, 0, tzinfo=UTC)


def header(request, name: str) -> str:  # type: ignore[no-untyped-def]
    return {k.lower(): v for k, v in request.headers.items()}.get(name.lower(), "")


@pytest.fixture
def incident() -> Incident:
    service = ServiceFactory(id="vle", name="Moodle VLE")
    incident = Incident.objects.create(
        service=service,
        kind=IncidentKind.DETECTED,
        state=IncidentState.CONFIRMED,
        title="Moodle VLE: complaints rising",
        started_at=NOON - timedelta(minutes=20),
        affected_authors=14,
        explanation={
            "summary": "31 complaints about Moodle VLE from 14 people since 11:40.",
            "terms": [{"term": "502", "ratio": 40.0}, {"term": "upload", "ratio": 6.2}],
            "representatives": ["moodle 502 error right before the deadline"],
        },
    )
    return incident


def deliver_all(created: list[AlertDelivery], now: datetime = NOON) -> list[AlertDelivery]:
    out = []
    for delivery in created:
        result = services.alert_deliver(delivery_id=delivery.pk, now=now)
        assert result is not None
        out.append(result)
    return out


def test_slack_and_teams_payloads(incident: Incident) -> None:
    with ReplayServer(
        {("POST", "/slack"): [Reply(200, body="ok")], ("POST", "/teams"): [Reply(202)]}
    ) as server:
        services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        services.alert_rule_create(name="leads", channel=AlertChannel.TEAMS, target=f"{server.url}/teams")
        created = services.alerts_queue(incident_id=incident.pk, state=IncidentState.CONFIRMED, now=NOON)
        sent = deliver_all(created)
        slack = server.requests_to("/slack")[0].json()
        teams = server.requests_to("/teams")[0].json()
    assert [d.status for d in sent] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert "Problem detected: Moodle VLE" in slack["text"]
    assert slack["blocks"][0]["type"] == "header"
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    assert "502" in card["content"]["body"][1]["text"]


def test_webhook_is_signed_and_verifiable(incident: Incident) -> None:
    with ReplayServer({("POST", "/hook"): [Reply(204)]}) as server:
        services.alert_rule_create(
            name="ops", channel=AlertChannel.WEBHOOK, target=f"{server.url}/hook", secret="s3cret"
        )
        deliver_all(services.alerts_queue(incident_id=incident.pk, state=IncidentState.CONFIRMED, now=NOON))
        request = server.requests_to("/hook")[0]
    timestamp = header(request, "X-Servicepulse-Timestamp")
    signature = header(request, "X-Servicepulse-Signature")
    assert signature.startswith("sha256=")
    assert alerts.verify("s3cret", timestamp, request.body, signature)
    assert not alerts.verify("wrong", timestamp, request.body, signature)
    assert not alerts.verify("s3cret", timestamp, request.body + b" ", signature)
    assert not alerts.verify("s3cret", str(int(timestamp) - 3600), request.body, signature)
    body = request.json()
    assert body["event"] == "incident.confirmed"
    assert body["incident"]["service"] == "vle" and body["incident"]["affected_authors"] == 14


def test_retries_with_back_off_and_a_delivery_log(incident: Incident) -> None:
    replies = [Reply(500, body="oops"), Reply(503, {"Retry-After": "1"}), Reply(200)]
    with ReplayServer({("POST", "/slack"): replies}) as server:
        services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        (delivery,) = services.alerts_queue(incident_id=incident.pk, state=IncidentState.CONFIRMED, now=NOON)
        first = services.alert_deliver(delivery_id=delivery.pk, now=NOON)
        assert first is not None and first.status == DeliveryStatus.PENDING
        assert first.next_attempt_at == NOON + timedelta(minutes=1)
        assert services.alerts_deliver_due(now=NOON + timedelta(seconds=30)) == 0  # not yet due
        assert services.alerts_deliver_due(now=NOON + timedelta(minutes=1)) == 1
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.next_attempt_at == NOON + timedelta(minutes=1) + timedelta(minutes=2)
        services.alerts_deliver_due(now=NOON + timedelta(minutes=3))
        assert len(server.requests_to("/slack")) == 3
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 3
    assert [e["outcome"] for e in delivery.log] == ["error", "error", "sent"]
    assert delivery.log[0]["status"] == 500


def test_a_refusing_target_is_not_retried(incident: Incident) -> None:
    with ReplayServer({("POST", "/gone"): [Reply(404)]}) as server:
        services.alert_rule_create(name="old", channel=AlertChannel.SLACK, target=f"{server.url}/gone")
        (delivery,) = deliver_all(services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON))
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1


def test_one_alert_per_state_change_and_resolution_only_to_those_alerted(incident: Incident) -> None:
    with ReplayServer({("POST", "/slack"): [Reply(200)], ("POST", "/other"): [Reply(200)]}) as server:
        services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        wifi = ServiceFactory(id="wifi", name="Wi-Fi")
        services.alert_rule_create(
            name="wifi team", channel=AlertChannel.SLACK, target=f"{server.url}/other", service_ids=[wifi.pk]
        )
        assert len(services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON)) == 1
        assert services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON) == []
        assert services.alerts_queue(incident_id=incident.pk, state="possible", now=NOON) == []  # below min
        resolved = services.alerts_queue(incident_id=incident.pk, state="resolved", now=NOON)
        assert [d.rule.name for d in resolved] == ["desk"]
        assert server.requests_to("/other") == []


def test_quiet_hours_hold_alerts_until_they_end(incident: Incident) -> None:
    local = timezone.get_default_timezone()
    night = datetime(2025, 10, 16, 23, 30, tzinfo=local)
    morning = datetime(2025, 10, 17, 7, 0, tzinfo=local)
    with ReplayServer({("POST", "/slack"): [Reply(200)]}) as server:
        services.alert_rule_create(
            name="desk",
            channel=AlertChannel.SLACK,
            target=f"{server.url}/slack",
            quiet_start=time(22, 0),
            quiet_end=time(7, 0),
        )
        (delivery,) = services.alerts_queue(incident_id=incident.pk, state="confirmed", now=night)
        assert delivery.status == DeliveryStatus.HELD and delivery.next_attempt_at == morning
        assert services.alerts_deliver_due(now=night + timedelta(hours=1)) == 0
        assert services.alerts_deliver_due(now=morning) == 1
        assert len(server.requests_to("/slack")) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_email_alert_through_a_real_smtp_server(incident: Incident, settings) -> None:  # type: ignore[no-untyped-def]
    with MailSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", sink.port, False
        services.alert_rule_create(
            name="cio", channel=AlertChannel.EMAIL, target="cio@uni.example, desk@uni.example"
        )
        (delivery,) = deliver_all(services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON))
        message = sink.wait_for(1)[0]
    assert delivery.status == DeliveryStatus.SENT
    assert "Problem detected: Moodle VLE" in message["Subject"]
    assert "502" in message.get_content()
    assert sorted(sink.handler.envelopes[0][1]) == ["cio@uni.example", "desk@uni.example"]


def test_state_change_queues_alerts_on_commit(incident: Incident, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer({("POST", "/slack"): [Reply(200)]}) as server:
        services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        AlertDelivery.objects.all().delete()
        with django_capture_on_commit_callbacks(execute=True):
            services.incident_update_status(incident=incident, state=IncidentState.RESOLVED)
        # The delivery row exists once the transaction commits (and its task is queued).
        assert AlertDelivery.objects.filter(incident=incident).count() == 0  # never alerted: no resolution
        with django_capture_on_commit_callbacks(execute=True):
            services.incident_update_status(incident=incident, state=IncidentState.CONFIRMED)
        assert AlertDelivery.objects.filter(incident=incident, incident_state="confirmed").count() == 1


def test_an_incident_opened_by_hand_is_alerted_with_its_note_not_zero_people(users) -> None:  # type: ignore[no-untyped-def]
    ServiceFactory(id="student-email", name="Student e-mail")
    incident = services.incident_create(
        service_id="student-email",
        title="Outlook slow for staff",
        started_at=NOON,
        user=users["responder"],
        comment="reported by the service desk",
    )
    text = alerts.alert_message(incident, IncidentState.CONFIRMED).text
    assert text == "Opened by hand by responder: reported by the service desk"
    incident.affected_authors = 4
    assert alerts.alert_message(incident, IncidentState.CONFIRMED).text.endswith("4 people affected so far.")
