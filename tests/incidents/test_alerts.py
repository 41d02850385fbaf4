"""Alerts through every channel against local servers: Slack, Teams, signed webhook, e-mail (aiosmtpd)."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from time import monotonic

import pytest
from django.db import connection
from django.utils import timezone
from freezegun import freeze_time

from servicepulse.analysis.selectors import AnalysedPost
from servicepulse.core.times import local_time_text
from servicepulse.incidents import alerts, selectors, services
from servicepulse.incidents.models import (
    ActivityType,
    AlertChannel,
    AlertDelivery,
    AlertRule,
    DeliveryStatus,
    Incident,
    IncidentKind,
    IncidentState,
)
from tests.factories import MentionFactory, ServiceFactory
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
    assert any("502" in element["inlines"][0]["text"] for element in card["content"]["body"][1:])


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


def _night_quiet_rule(server: ReplayServer) -> AlertRule:
    """A Slack rule to `server` that is quiet from 22:00 to 07:00."""
    return services.alert_rule_create(
        name="desk",
        channel=AlertChannel.SLACK,
        target=f"{server.url}/slack",
        quiet_start=time(22, 0),
        quiet_end=time(7, 0),
    )


def test_quiet_hours_hold_alerts_until_they_end(incident: Incident) -> None:
    local = timezone.get_default_timezone()
    night = datetime(2025, 10, 16, 23, 30, tzinfo=local)
    morning = datetime(2025, 10, 17, 7, 0, tzinfo=local)
    with ReplayServer({("POST", "/slack"): [Reply(200)]}) as server:
        _night_quiet_rule(server)
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
    assert text.splitlines()[0] == "Opened by hand by responder: reported by the service desk"
    incident.affected_authors = 4
    first = alerts.alert_message(incident, IncidentState.CONFIRMED).text.splitlines()[0]
    assert first.endswith("4 people affected so far.")


def test_slack_gets_users_words_escaped_so_they_cannot_ping_the_channel(incident: Incident) -> None:
    incident.explanation["representatives"] = ["<!channel> moodle & <https://evil.example|login here> down"]
    incident.save()
    with ReplayServer({("POST", "/slack"): [Reply(200)]}) as server:
        services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        deliver_all(services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON))
        slack = server.requests_to("/slack")[0].json()
    section = slack["blocks"][1]["text"]["text"]
    for text in (slack["text"], section):
        assert "<!channel>" not in text and "<https://evil" not in text
        assert "&lt;!channel&gt; moodle &amp; &lt;https://evil.example|login here&gt; down" in text
    assert slack["blocks"][2]["text"]["text"] == f"<{alerts.incident_url(incident)}|Open in servicepulse>"


def test_teams_shows_users_words_as_typed_not_as_markdown(incident: Incident) -> None:
    # Security review: the card's TextBlocks read the alert as Markdown, so a post quoted in it could put a
    # disguised link ("[log in](https://evil.example)") or bold text in the team's channel.
    incident.title = "Moodle [log in](https://evil.example/title) **now**"
    incident.explanation["representatives"] = [
        "moodle down [reset here](https://evil.example/login) _urgent_"
    ]
    incident.save()
    card = alerts.teams_payload(alerts.alert_message(incident, IncidentState.CONFIRMED))
    body = card["attachments"][0]["content"]["body"]
    assert {element["type"] for element in body} == {"RichTextBlock"}  # never read as Markdown
    runs = [run for element in body for run in element["inlines"]]
    assert {run["type"] for run in runs} == {"TextRun"}
    assert (
        runs[0]["text"]
        == "Problem detected: Moodle VLE — Moodle [log in](https://evil.example/title) **now**"
    )
    assert runs[0]["weight"] == "Bolder"
    assert [run["text"] for run in runs[1:]] == alerts.alert_message(
        incident, IncidentState.CONFIRMED
    ).text.split("\n")
    assert "“moodle down [reset here](https://evil.example/login) _urgent_”" in [run["text"] for run in runs]


def test_the_alert_says_since_when_in_the_organisations_time(incident: Incident) -> None:
    text = alerts.alert_message(incident, IncidentState.CONFIRMED).text
    assert f"Started {local_time_text(incident.started_at)}." in text
    assert "Started 16 Oct 2025, 12:40 BST." in text  # 11:40 UTC, in Europe/London
    incident.resolved_at = NOON + timedelta(hours=2)
    resolved = alerts.alert_message(incident, IncidentState.RESOLVED).text
    assert "Started 16 Oct 2025, 12:40 BST, resolved 16 Oct 2025, 15:00 BST." in resolved


def test_a_resolved_alert_says_when_the_incident_ran_not_since(incident: Incident) -> None:
    """The resolved alert opened "31 complaints ... from 14 people since 11:40.", as if it were still going on
    (the incident page said "between ... and ..."), and its title named the service twice."""
    incident.state = IncidentState.RESOLVED
    incident.resolved_at = NOON + timedelta(hours=2)
    message = alerts.alert_message(incident, IncidentState.RESOLVED)
    assert message.title == "Resolved: Moodle VLE: complaints rising"
    first = message.text.splitlines()[0]
    began, ended = local_time_text(incident.started_at), local_time_text(incident.resolved_at)
    assert (began, ended) == ("16 Oct 2025, 12:40 BST", "16 Oct 2025, 15:00 BST")
    assert first == f"31 complaints about Moodle VLE from 14 people between {began} and {ended} (2 h 20 min)."
    # One still open and alerted the next day (held through quiet hours) says the day it began.
    incident.state, incident.resolved_at = IncidentState.CONFIRMED, None
    with freeze_time(NOON + timedelta(days=1)):
        held = alerts.alert_message(incident, IncidentState.CONFIRMED).text.splitlines()[0]
    assert held == f"31 complaints about Moodle VLE from 14 people since {began}."


def test_a_429_waits_as_long_as_retry_after_asks(incident: Incident) -> None:
    with ReplayServer({("POST", "/slack"): [Reply(429, {"Retry-After": "600"}), Reply(200)]}) as server:
        services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        (delivery,) = deliver_all(services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON))
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.next_attempt_at == NOON + timedelta(minutes=10)  # not the 1-minute back-off
        assert services.alerts_deliver_due(now=NOON + timedelta(minutes=5)) == 0
        assert services.alerts_deliver_due(now=NOON + timedelta(minutes=10)) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert [(e["outcome"], e["status"]) for e in delivery.log] == [("error", 429), ("sent", 200)]


def test_a_deleted_webhook_fails_at_once_and_the_log_says_why(incident: Incident) -> None:
    with ReplayServer({("POST", "/gone"): [Reply(410, body="gone")]}) as server:
        services.alert_rule_create(name="old", channel=AlertChannel.TEAMS, target=f"{server.url}/gone")
        (delivery,) = deliver_all(services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON))
        assert services.alerts_deliver_due(now=NOON + timedelta(hours=1)) == 0
        assert len(server.requests_to("/gone")) == 1
    assert delivery.status == DeliveryStatus.FAILED and delivery.response_status == 410
    assert delivery.log[0]["status"] == 410 and "not retried" in delivery.log[0]["detail"]


def test_a_refused_connection_backs_off_then_gives_up_saying_so(incident: Incident) -> None:
    with ReplayServer({}) as server:
        target = f"{server.url}/slack"
    # The server is stopped: connections to its port are refused.
    services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=target)
    (delivery,) = services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON)
    waits, at = [], NOON
    for _ in range(services.MAX_ATTEMPTS):
        result = services.alert_deliver(delivery_id=delivery.pk, now=at)
        assert result is not None
        if result.next_attempt_at is not None:
            waits.append((result.next_attempt_at - at).total_seconds() / 60)
            at = result.next_attempt_at
    assert waits == [1, 2, 4, 8, 16]
    assert result.status == DeliveryStatus.FAILED and result.attempts == services.MAX_ATTEMPTS
    assert all(e["status"] is None and "refused" in e["detail"] for e in result.log)
    assert "gave up after 6 attempts" in result.log[-1]["detail"]


def test_a_second_worker_does_not_retry_before_the_back_off(incident: Incident) -> None:
    # The sweep and the deferred retry (or two sweeps) may pick the same due delivery: the one that comes
    # second, after a failed attempt, must leave it to its back-off.
    with ReplayServer({("POST", "/slack"): [Reply(500)]}) as server:
        services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        (delivery,) = services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON)
        services.alert_deliver(delivery_id=delivery.pk, now=NOON)
        second = services.alert_deliver(delivery_id=delivery.pk, now=NOON)
        assert len(server.requests_to("/slack")) == 1
    assert second is not None and second.attempts == 1
    assert second.next_attempt_at == NOON + timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_alert(incident: Incident) -> None:
    seen: list[AlertDelivery | None] = []

    def answer(request):  # type: ignore[no-untyped-def]
        # A second worker reaches the delivery while the first is still waiting for Slack's answer.
        try:
            seen.append(services.alert_deliver(delivery_id=delivery.pk, now=NOON))
        finally:
            connection.close()  # this thread's own connection
        return Reply(200, body="ok")

    with ReplayServer({("POST", "/slack"): [answer]}) as server:
        services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        (delivery,) = services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON)
        first = services.alert_deliver(delivery_id=delivery.pk, now=NOON)
        assert len(server.requests_to("/slack")) == 1
    assert first is not None and first.status == DeliveryStatus.SENT and first.attempts == 1
    assert seen[0] is not None and seen[0].attempts == 1  # it found the delivery taken and left it


def test_a_resolution_during_quiet_hours_supersedes_the_held_alert(incident: Incident) -> None:
    local = timezone.get_default_timezone()
    night = datetime(2025, 10, 16, 23, 30, tzinfo=local)
    with ReplayServer({("POST", "/slack"): [Reply(200)]}) as server:
        _night_quiet_rule(server)
        (confirmed,) = services.alerts_queue(incident_id=incident.pk, state="confirmed", now=night)
        (resolved,) = services.alerts_queue(
            incident_id=incident.pk, state="resolved", now=night + timedelta(hours=2)
        )
        assert resolved.status == DeliveryStatus.HELD
        services.alerts_deliver_due(now=datetime(2025, 10, 17, 7, 0, tzinfo=local))
        headers = [r.json()["blocks"][0]["text"]["text"] for r in server.requests_to("/slack")]
    assert headers == ["Resolved: Moodle VLE: complaints rising"]
    confirmed.refresh_from_db()
    assert confirmed.status == DeliveryStatus.CANCELLED and confirmed.attempts == 0
    assert confirmed.log[-1]["detail"] == "not sent: superseded by the resolved alert"
    assert confirmed.last_error == "" and confirmed.cancelled_because == confirmed.log[-1]["detail"]


def test_quiet_hours_across_the_autumn_clock_change_end_at_local_seven(incident: Incident) -> None:
    local = timezone.get_default_timezone()  # Europe/London: BST ends at 02:00 on 26 October 2025
    services.alert_rule_create(
        name="desk", channel=AlertChannel.SLACK, target="https://hooks.example.com/x",
        quiet_start=time(22, 0), quiet_end=time(7, 0),
    )  # fmt: skip
    (delivery,) = services.alerts_queue(
        incident_id=incident.pk, state="confirmed", now=datetime(2025, 10, 25, 23, 30, tzinfo=local)
    )
    assert delivery.next_attempt_at == datetime(2025, 10, 26, 7, 0, tzinfo=UTC)  # 07:00 GMT, not 06:00


def test_editing_a_rules_quiet_hours_releases_or_holds_its_waiting_alerts(incident: Incident) -> None:
    local = timezone.get_default_timezone()
    night = datetime(2025, 10, 16, 23, 30, tzinfo=local)
    with ReplayServer({("POST", "/slack"): [Reply(500), Reply(200)]}) as server:
        rule = services.alert_rule_create(
            name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack",
            quiet_start=time(22, 0), quiet_end=time(7, 0),
        )  # fmt: skip
        (held,) = services.alerts_queue(incident_id=incident.pk, state="confirmed", now=night)
        services.alert_rule_update(rule=rule, name="desk", channel=AlertChannel.SLACK, target=rule.target)
        # No quiet hours any more: the next sweep sends it (here it fails once and is retried).
        assert services.alerts_deliver_due(now=timezone.now()) == 1
        held.refresh_from_db()
        assert held.status == DeliveryStatus.PENDING and held.attempts == 1
        # Quiet hours added while it waits for its retry: the retry waits for them to end.
        retry_at = held.next_attempt_at
        assert retry_at is not None
        start, end = (timezone.localtime(retry_at + timedelta(hours=h)).time() for h in (-1, 1))
        services.alert_rule_update(
            rule=rule, name="desk", channel=AlertChannel.SLACK, target=rule.target,
            quiet_start=start.replace(second=0, microsecond=0), quiet_end=end.replace(second=0, microsecond=0),
        )  # fmt: skip
        assert services.alerts_deliver_due(now=retry_at) == 0
        held.refresh_from_db()
        assert held.status == DeliveryStatus.HELD
        assert held.next_attempt_at is not None
        assert timedelta(minutes=59) < held.next_attempt_at - retry_at <= timedelta(hours=1)
        assert len(server.requests_to("/slack")) == 1


def test_a_silent_smtp_server_does_not_hang_the_worker(incident: Incident, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def accept() -> None:  # takes the connection and never greets (closes after 5 s in any case)
        conn, _ = listener.accept()
        done.wait(5)
        conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", listener.getsockname()[1]
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = None  # Django's default
    monkeypatch.setattr(alerts, "SEND_SECONDS", 1.0)
    services.alert_rule_create(name="cio", channel=AlertChannel.EMAIL, target="cio@uni.example")
    started = monotonic()
    (delivery,) = deliver_all(services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON))
    assert monotonic() - started < 3
    done.set()
    thread.join()
    listener.close()
    assert delivery.status == DeliveryStatus.PENDING and "timed out" in delivery.last_error


def test_a_reopened_incident_is_alerted_again_once_per_state_change(  # type: ignore[no-untyped-def]
    immediate_tasks, django_capture_on_commit_callbacks
) -> None:
    ServiceFactory(id="wifi", name="Wi-Fi")
    with ReplayServer({("POST", "/slack"): [Reply(200)] * 5}) as server:
        services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        with django_capture_on_commit_callbacks(execute=True):
            incident = services.incident_create(service_id="wifi", title="Wi-Fi down", started_at=NOON)
        with django_capture_on_commit_callbacks(execute=True):
            services.incident_update_status(incident=incident, state=IncidentState.RESOLVED)
        # The same state change queued again (a retried task): nothing more.
        assert services.alerts_queue(incident_id=incident.pk, state="confirmed") == []
        assert services.alerts_queue(incident_id=incident.pk, state="resolved") == []
        with django_capture_on_commit_callbacks(execute=True):
            services.incident_update_status(incident=incident, state=IncidentState.CONFIRMED, comment="back")
        assert services.alerts_queue(incident_id=incident.pk, state="confirmed") == []
        with django_capture_on_commit_callbacks(execute=True):
            services.incident_update_status(incident=incident, state=IncidentState.RESOLVED)
        headers = [r.json()["blocks"][0]["text"]["text"].split(":")[0] for r in server.requests_to("/slack")]
    # Opened by hand: an "Incident" each time it opens, not a "Problem detected".
    assert headers == ["Incident", "Resolved", "Incident", "Resolved"]
    deliveries = AlertDelivery.objects.filter(incident=incident).order_by("pk")
    assert [(d.incident_state, d.status) for d in deliveries] == [
        ("confirmed", "sent"), ("resolved", "sent"), ("confirmed", "sent"), ("resolved", "sent")
    ]  # fmt: skip
    assert len({d.activity_id for d in deliveries}) == 4


def test_a_state_change_queued_late_or_twice_is_alerted_once(incident: Incident) -> None:
    services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target="https://hooks.example.com/x")
    services.incident_update_status(incident=incident, state=IncidentState.RESOLVED)
    services.incident_update_status(incident=incident, state=IncidentState.CONFIRMED)
    (reopened,) = incident.activities.filter(state=IncidentState.CONFIRMED)
    (queued,) = services.alerts_queue(incident_id=incident.pk, state="confirmed", activity_id=reopened.pk)
    assert queued.activity_id == reopened.pk
    assert services.alerts_queue(incident_id=incident.pk, state="confirmed", activity_id=reopened.pk) == []
    assert services.alerts_queue(incident_id=incident.pk, state="confirmed") == []  # the latest: the same
    assert AlertDelivery.objects.filter(incident=incident).count() == 1


class Burst:
    """Analysed complaints about one service read the way the analysis app hands them to detection: three
    calm days (one complaint every two hours), then a burst from an hour after (by default 15 people
    complaining within an hour and a half; `burst` gives each complaint's minutes after its onset)."""

    def __init__(self, start: datetime, *, burst: list[int] | None = None) -> None:
        service = ServiceFactory(id="vle", name="Moodle VLE")
        stamps = [(start + timedelta(hours=2 * i), f"calm{i}") for i in range(36)]
        onset = start + timedelta(days=3, hours=1)
        minutes = [6 * j for j in range(15)] if burst is None else burst
        stamps += [(onset + timedelta(minutes=m), f"student{j}") for j, m in enumerate(minutes)]
        self.posts = []
        for at, author in stamps:
            mention = MentionFactory(text="moodle is down", author=author, author_id="", created_at=at)
            self.posts.append(
                AnalysedPost(
                    mention_id=mention.pk,
                    created_at=at,
                    author_key=mention.author_key,
                    author=author,
                    text=mention.text,
                    service_ids=(service.pk,),
                    complaint=True,
                    sentiment=-0.6,
                    spam=False,
                )
            )

    def __call__(
        self, *, since: datetime, until: datetime, service_ids: list[str] | None = None
    ) -> Iterator[AnalysedPost]:
        return iter([p for p in self.posts if since <= p.created_at < until])


@pytest.mark.django_db(transaction=True)
def test_a_possible_problem_alert_names_the_people_it_opened_with(immediate_tasks) -> None:  # type: ignore[no-untyped-def]
    # Real commits and tasks run at once: the alert goes out the moment its state change commits.
    start = datetime(2025, 10, 6, tzinfo=UTC)
    reader = Burst(start)
    with ReplayServer({("POST", "/slack"): [Reply(200)] * 5}) as server:
        services.alert_rule_create(
            name="early", channel=AlertChannel.SLACK, target=f"{server.url}/slack", min_state="possible"
        )
        services.run_detection(now=start + timedelta(days=3, hours=4), since=start, reader=reader)
        texts = [r.json()["text"] for r in server.requests_to("/slack")]
    incident = Incident.objects.get()
    assert texts and texts[0].startswith("Possible problem: Moodle VLE")
    opened = incident.activities.filter(type=ActivityType.MENTIONS_ATTACHED).order_by("at", "pk").first()
    assert opened is not None
    people = int(re.search(r"(\d+) people affected", opened.comment).group(1))  # type: ignore[union-attr]
    assert people >= 3
    assert texts[0].splitlines()[1] == f"{people} people affected."


@pytest.mark.django_db(transaction=True)
def test_the_confirmed_alert_counts_the_complaints_that_confirmed_it(immediate_tasks) -> None:  # type: ignore[no-untyped-def]
    # Five people in one 15-minute bucket make it a possible problem; three more in the next confirm it.
    start = datetime(2025, 10, 6, tzinfo=UTC)
    reader = Burst(start, burst=[1, 2, 3, 4, 5, 16, 17, 18])
    with ReplayServer({("POST", "/slack"): [Reply(200)] * 5}) as server:
        services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        # Up to the end of the confirming bucket: the stored explanation is the one written when it confirmed.
        end = start + timedelta(days=3, hours=1, minutes=30)
        summary = services.run_detection(now=end, since=start, reader=reader)
        texts = [r.json()["text"] for r in server.requests_to("/slack")]
    incident = Incident.objects.get()
    assert summary.opened == summary.confirmed == [incident.pk] and incident.state == IncidentState.CONFIRMED
    assert incident.affected_authors == 8
    stored = incident.explanation["summary"]
    assert stored.startswith("8 complaints about Moodle VLE from 8 people since "), stored
    assert incident.explanation["affected_authors"] == 8
    (text,) = texts  # the rule's default: confirmed incidents only
    assert text.startswith("Problem detected: Moodle VLE")
    # The alert quotes the stored explanation, as the incident page words it (the day it began, on a later day).
    assert text.splitlines()[1] == alerts.slack_escape(selectors.summary_as_shown(stored, incident=incident))
    assert re.search(r"\bfrom 8 people since ", text)


def test_an_incident_titled_with_a_line_break_is_still_e_mailed(smtp: MailSink) -> None:
    ServiceFactory(id="wifi", name="Wi-Fi")
    incident = Incident.objects.create(
        service_id="wifi",
        kind=IncidentKind.MANUAL,
        state=IncidentState.CONFIRMED,
        title="Eduroam down\r\nin the library",
        started_at=NOON,
    )
    services.alert_rule_create(name="cio", channel=AlertChannel.EMAIL, target="cio@uni.example")
    (delivery,) = deliver_all(services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON))
    # The line break in the subject was refused as a header injection: the delivery stayed "pending".
    assert delivery.status == DeliveryStatus.SENT
    subject = str(smtp.wait_for(1)[0]["Subject"]).strip()
    # Opened by a person, so an "Incident": "Problem detected" is for what detection found.
    assert subject == "[servicepulse] Incident: Wi-Fi — Eduroam down in the library"


def test_a_surprise_while_sending_is_logged_retried_and_given_up_on(incident: Incident, settings) -> None:  # type: ignore[no-untyped-def]
    # Mail settings Django refuses (TLS and SSL both on): not a channel's answer but an error of its own.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = True
    services.alert_rule_create(name="cio", channel=AlertChannel.EMAIL, target="cio@uni.example")
    (delivery,) = services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON)
    first = services.alert_deliver(delivery_id=delivery.pk, now=NOON)
    # It was left claimed with an empty log, and taken again every 5 minutes for ever, never "Failed".
    assert first is not None and first.status == DeliveryStatus.PENDING
    assert "mutually exclusive" in first.last_error
    assert first.log[-1]["outcome"] == "error" and first.next_attempt_at == NOON + timedelta(minutes=1)
    later = NOON
    for _ in range(services.MAX_ATTEMPTS - 1):
        later += timedelta(hours=1)
        services.alerts_deliver_due(now=later)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == services.MAX_ATTEMPTS
    assert delivery.log[-1]["detail"].endswith(f"gave up after {services.MAX_ATTEMPTS} attempts")


def test_a_test_alert_carries_its_delivery_id_in_the_body_and_the_header() -> None:
    """The test body said ``"delivery": null`` beside ``X-Servicepulse-Delivery: test-…``, and nested the rule
    as ``{"rule": 2, "rule_name": …}``: a receiver that deduplicates on the delivery could not."""
    with ReplayServer({("POST", "/hook"): [Reply(204), Reply(204)]}) as server:
        rule = services.alert_rule_create(
            name="Ops hook", channel=AlertChannel.WEBHOOK, target=f"{server.url}/hook", secret="s3cret"
        )
        assert alerts.send_trial(rule) == 204
        assert alerts.send_trial(rule) == 204
        first, second = server.requests_to("/hook")
    body = first.json()
    assert body["delivery"] == header(first, "X-Servicepulse-Delivery")
    assert body["delivery"].startswith("test-") and body["delivery"] != second.json()["delivery"]
    assert body == {
        "event": "test",
        "test": True,
        "delivery": body["delivery"],
        "rule": {"id": rule.pk, "name": "Ops hook"},
        "incident": None,
    }


def test_the_webhook_body_says_the_day_an_incident_began_days_ago(incident: Incident) -> None:
    """The body's ``incident.explanation.summary`` was the stored one, "... since 11:40.", in an alert sent
    a week later; it reads as the alert's own text does, with the day."""
    later = NOON + timedelta(days=8)
    with ReplayServer({("POST", "/hook"): [Reply(204)]}) as server:
        services.alert_rule_create(
            name="ops", channel=AlertChannel.WEBHOOK, target=f"{server.url}/hook", secret="s3cret"
        )
        with freeze_time(later):
            (delivery,) = services.alerts_queue(
                incident_id=incident.pk, state=IncidentState.CONFIRMED, now=later
            )
            deliver_all([delivery], now=later)
        (request,) = server.requests_to("/hook")
    explanation = request.json()["incident"]["explanation"]
    began = local_time_text(incident.started_at)
    assert explanation["summary"] == f"31 complaints about Moodle VLE from 14 people since {began}."
    assert explanation["terms"] == incident.explanation["terms"]  # the rest as stored
    incident.refresh_from_db()
    assert incident.explanation["summary"].endswith("since 11:40.")  # the stored one is left as written
