"""Alert rules are refused when no alert could ever be delivered through them, and can be fixed afterwards:
changed, switched off (its waiting deliveries go nowhere) or deleted. Deliveries go to local servers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from servicepulse.incidents import services
from servicepulse.incidents.models import (
    AlertChannel,
    AlertDelivery,
    AlertRule,
    DeliveryStatus,
    Incident,
    IncidentKind,
    IncidentState,
)
from tests.factories import ServiceFactory
from tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db
NOON = datetime(2025, 10, 16, 12, 0, tzinfo=UTC)
SLACK = "https://hooks.slack.com/services/T000/B000/XXXX"


def refusal(**fields: Any) -> dict[str, list[str]]:
    """The errors, by field, alert_rule_create answers for a rule made of `fields`."""
    rule: dict[str, Any] = {"name": "desk", "channel": AlertChannel.SLACK, "target": SLACK, **fields}
    with pytest.raises(ValidationError) as caught:
        services.alert_rule_create(**rule)
    assert not AlertRule.objects.filter(name=rule["name"]).exists()
    return caught.value.message_dict


@pytest.fixture
def public_only(settings: Any) -> None:
    """Production's fetcher: no private addresses (the tests' settings allow them, for local servers)."""
    settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
    settings.SERVICEPULSE_FETCH_ALLOW_NETWORKS = []


@pytest.fixture
def incident() -> Incident:
    return Incident.objects.create(
        service=ServiceFactory(id="vle", name="Moodle VLE"),
        kind=IncidentKind.DETECTED,
        state=IncidentState.CONFIRMED,
        title="Moodle VLE: complaints rising",
        started_at=NOON - timedelta(minutes=20),
    )


@pytest.mark.parametrize("channel", [AlertChannel.SLACK, AlertChannel.TEAMS, AlertChannel.WEBHOOK])
@pytest.mark.parametrize(
    "target", ["not a url", "javascript:alert(1)", "ftp://files.example/hook", "https://"]
)
def test_a_webhook_rule_needs_an_http_address(channel: AlertChannel, target: str) -> None:
    errors = refusal(channel=channel, target=target, secret="s3cret")
    assert list(errors) == ["target"]
    assert "address" in errors["target"][0]


def test_slack_and_teams_need_https_where_only_public_addresses_are_reached(public_only: None) -> None:
    for channel in (AlertChannel.SLACK, AlertChannel.TEAMS):
        errors = refusal(channel=channel, target="http://hooks.slack.com/services/T000/B000/XXXX")
        assert "needs an https:// address" in errors["target"][0]
    # The signed webhook is the receiver's own server: plain http is its choice.
    services.alert_rule_create(
        name="ops", channel=AlertChannel.WEBHOOK, target="http://hooks.example.invalid/in", secret="k"
    )
    assert services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=SLACK).target == SLACK


def test_a_target_the_fetcher_would_never_reach_is_refused(public_only: None) -> None:
    errors = refusal(target="https://127.0.0.1/hook")
    assert "not a public address" in errors["target"][0]
    errors = refusal(target="https://user:pw@hooks.slack.com/services/T000")
    assert "credentials" in errors["target"][0]


def test_email_rules_need_valid_addresses_and_are_stored_as_one_list() -> None:
    errors = refusal(channel=AlertChannel.EMAIL, target="not-an-email, x@")
    assert errors["target"] == ["Not an e-mail address: “not-an-email”, “x@”."]
    assert "at least one" in refusal(channel=AlertChannel.EMAIL, target=" , ;")["target"][0]
    rule = services.alert_rule_create(
        name="cio", channel=AlertChannel.EMAIL, target=" cio@uni.example;desk@uni.example , cio@uni.example"
    )
    assert rule.target == "cio@uni.example, desk@uni.example"


def test_a_signed_webhook_needs_its_secret() -> None:
    errors = refusal(channel=AlertChannel.WEBHOOK, target="https://ops.example.invalid/in")
    assert list(errors) == ["secret"]
    rule = services.alert_rule_create(
        name="ops", channel=AlertChannel.WEBHOOK, target="https://ops.example.invalid/in", secret="s3cret"
    )
    assert rule.secret == "s3cret"
    # Only the signed webhook signs: a secret given to another channel is not kept.
    assert (
        services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=SLACK, secret="x").secret
        == ""
    )


def test_quiet_hours_need_two_different_ends() -> None:
    assert "different time" in refusal(quiet_start=time(22, 0), quiet_end=time(22, 0))["quiet_end"][0]
    assert "both ends" in refusal(quiet_start=time(22, 0))["quiet_end"][0]


def test_names_are_unique_ignoring_case() -> None:
    services.alert_rule_create(name="Service desk", channel=AlertChannel.SLACK, target=SLACK)
    errors = refusal(name="service desk ")
    assert errors["name"] == ["There is already an alert rule called “service desk”."]
    assert AlertRule.objects.count() == 1


def test_unknown_services_are_refused_not_dropped() -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    errors = refusal(service_ids=["vle", "nope"])
    assert errors["services"] == ["No such service: nope."]


def test_a_rule_is_changed_through_the_same_checks() -> None:
    ServiceFactory(id="vle", name="Moodle VLE")
    services.alert_rule_create(name="other", channel=AlertChannel.SLACK, target=SLACK)
    rule = services.alert_rule_create(
        name="ops", channel=AlertChannel.WEBHOOK, target="https://ops.example.invalid/in", secret="s3cret"
    )
    with pytest.raises(ValidationError) as caught:
        services.alert_rule_update(rule=rule, name="Other", channel=AlertChannel.WEBHOOK, target="not a url")
    assert set(caught.value.message_dict) == {"name", "target"}
    rule.refresh_from_db()
    assert (rule.name, rule.target) == ("ops", "https://ops.example.invalid/in")
    # Its own name is no duplicate, and an empty secret keeps the one it has.
    services.alert_rule_update(
        rule=rule,
        name="ops",
        channel=AlertChannel.WEBHOOK,
        target="https://ops2.example.invalid/in",
        service_ids=["vle"],
        min_state=IncidentState.POSSIBLE,
    )
    rule = AlertRule.objects.get(pk=rule.pk)
    assert rule.target == "https://ops2.example.invalid/in" and rule.secret == "s3cret"
    assert rule.min_state == IncidentState.POSSIBLE and [s.pk for s in rule.services.all()] == ["vle"]


def test_a_changed_target_takes_the_waiting_retries(incident: Incident) -> None:
    with ReplayServer({("POST", "/old"): [Reply(500)], ("POST", "/new"): [Reply(200)]}) as server:
        rule = services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/old")
        (delivery,) = services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON)
        first = services.alert_deliver(delivery_id=delivery.pk, now=NOON)
        assert first is not None and first.status == DeliveryStatus.PENDING
        services.alert_rule_update(
            rule=rule, name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/new"
        )
        assert services.alerts_deliver_due(now=NOON + timedelta(minutes=1)) == 1
        assert len(server.requests_to("/new")) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_a_disabled_rule_sends_nothing_more(incident: Incident) -> None:
    with ReplayServer({("POST", "/slack"): [Reply(500)]}) as server:
        rule = services.alert_rule_create(
            name="desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack"
        )
        (delivery,) = services.alerts_queue(incident_id=incident.pk, state="confirmed", now=NOON)
        services.alert_deliver(delivery_id=delivery.pk, now=NOON)
        assert len(server.requests_to("/slack")) == 1
        services.alert_rule_set_enabled(rule=rule, enabled=False)
        services.alerts_deliver_due(now=NOON + timedelta(minutes=1))
        assert len(server.requests_to("/slack")) == 1  # the retry did not go out
        assert services.alerts_queue(incident_id=incident.pk, state="resolved", now=NOON) == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CANCELLED and delivery.next_attempt_at is None
    assert "disabled" in delivery.cancelled_because and delivery.log[-1]["outcome"] == "cancelled"
    assert delivery.last_error == ""  # not an error: the 500 before it stays in the log
    assert delivery.log[0]["status"] == 500
    services.alert_rule_set_enabled(rule=rule, enabled=True)
    assert AlertRule.objects.get(pk=rule.pk).enabled


def test_deleting_a_rule_takes_its_delivery_records(incident: Incident) -> None:
    rule = services.alert_rule_create(name="desk", channel=AlertChannel.SLACK, target=SLACK)
    AlertDelivery.objects.create(rule=rule, incident=incident, incident_state="confirmed")
    assert services.alert_rule_delete(rule=rule) == 1
    assert not AlertRule.objects.exists() and not AlertDelivery.objects.exists()
