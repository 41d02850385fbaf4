"""/alerts/ (admin): bad targets are refused with the reason beside the field, and a rule can be fixed from
the page: edited, disabled and enabled, deleted after a confirmation."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.core.times import local_time_text
from servicepulse.incidents.alerts import verify
from servicepulse.incidents.models import AlertChannel, AlertDelivery, AlertRule, DeliveryStatus
from servicepulse.incidents.services import (
    alert_deliver,
    alert_rule_create,
    alert_rule_set_enabled,
    alerts_queue,
    incident_create,
)
from tests.replay import ReplayServer, Reply

SLACK = "https://hooks.slack.com/services/T000/B000/XXXX"


def post_rule(client: Client, **fields: Any) -> Any:
    data = {"name": "Desk", "channel": "slack", "target": SLACK, "min_state": "confirmed", **fields}
    return client.post("/alerts/", data)


def text(response: Any) -> str:
    """The page's words without its tags, spaces collapsed, entities decoded."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def field_errors(response: Any, name: str) -> list[str]:
    form = response.context["form"]
    return [str(e) for e in form.errors.get(name, [])]


@pytest.fixture
def rule(world: dict[str, Any]) -> AlertRule:
    return alert_rule_create(name="Desk on Slack", channel=AlertChannel.SLACK, target=SLACK)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"target": "not a url"}, "target", "needs an http:// or https:// address"),
        ({"channel": "teams", "target": "javascript:alert(1)"}, "target", "needs an http:// or https://"),
        ({"channel": "email", "target": "not-an-email, x@"}, "target", "Not an e-mail address"),
        ({"channel": "webhook", "target": "https://ops.example.invalid/in"}, "secret", "signing secret"),
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, "quiet_end", "different time"),
        ({"quiet_start": "22:00"}, "quiet_end", "Give both ends"),
        ({"services": ["vle", "no-such-service"]}, "services", "no-such-service"),
    ],
)
def test_a_rule_that_could_never_alert_is_refused_beside_its_field(
    world: dict[str, Any], clients: dict[str, Client], fields: dict[str, Any], field: str, words: str
) -> None:
    response = post_rule(clients["admin"], **fields)
    assert response.status_code == 200
    assert not AlertRule.objects.exists()
    assert any(words in e for e in field_errors(response, field)), field_errors(response, field)
    page = text(response)
    assert words in page  # shown, the Services fieldset included
    assert "The rule was not saved" in page


@pytest.mark.django_db
def test_duplicate_names_are_refused(rule: AlertRule, clients: dict[str, Client]) -> None:
    response = post_rule(clients["admin"], name="desk on slack")
    assert "There is already an alert rule called “desk on slack”." in text(response)
    assert AlertRule.objects.count() == 1


@pytest.mark.django_db
def test_slack_needs_https_in_production(
    world: dict[str, Any], clients: dict[str, Client], settings: Any
) -> None:
    settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
    response = post_rule(clients["admin"], target="http://hooks.slack.com/services/T000/B000/XXXX")
    assert "needs an https:// address" in " ".join(field_errors(response, "target"))
    assert post_rule(clients["admin"]).status_code == 302


@pytest.mark.django_db
def test_alert_from_uses_the_products_wording(world: dict[str, Any], clients: dict[str, Client]) -> None:
    alert_rule_create(name="Early", channel=AlertChannel.SLACK, target=SLACK, min_state="possible")
    alert_rule_create(name="Late", channel=AlertChannel.SLACK, target=SLACK, min_state="confirmed")
    page = clients["admin"].get("/alerts/").content.decode()
    cells = re.findall(r"<td>(Possible problem|Problem detected|possible|confirmed)</td>", page)
    assert cells == ["Possible problem", "Problem detected"]


@pytest.mark.django_db
def test_disable_enable_and_delete_after_confirming(
    rule: AlertRule, clients: dict[str, Client], django_assert_max_num_queries: Any
) -> None:
    admin = clients["admin"]
    with django_assert_max_num_queries(10):
        page = admin.get("/alerts/").content.decode()
    assert 'Disable<span class="sr-only"> Desk on Slack' in page
    assert admin.post("/alerts/", {"action": "disable", "rule": rule.pk}).status_code == 302
    assert not AlertRule.objects.get(pk=rule.pk).enabled
    assert "Enable<span" in admin.get("/alerts/").content.decode()
    admin.post("/alerts/", {"action": "enable", "rule": rule.pk})
    assert AlertRule.objects.get(pk=rule.pk).enabled

    confirm = admin.get("/alerts/", {"delete": rule.pk})
    assert "Delete the rule Desk on Slack?" in text(confirm)
    assert AlertRule.objects.filter(pk=rule.pk).exists()  # asking is not deleting
    done = admin.post("/alerts/", {"action": "delete", "rule": rule.pk}, follow=True)
    assert "Deleted the alert rule Desk on Slack." in text(done)
    assert not AlertRule.objects.exists()
    assert admin.post("/alerts/", {"action": "delete", "rule": rule.pk}).status_code == 404


@pytest.mark.django_db
def test_a_rule_is_edited_in_place(rule: AlertRule, clients: dict[str, Client]) -> None:
    admin = clients["admin"]
    form = admin.get("/alerts/", {"edit": rule.pk})
    assert "Edit the rule Desk on Slack" in text(form)
    assert SLACK not in form.content.decode()  # the webhook address is a secret
    refused = admin.post(
        "/alerts/",
        {
            "action": "edit",
            "rule": rule.pk,
            "name": "Desk on Slack",
            "channel": "slack",
            "target": "nope",
            "min_state": "confirmed",
        },
    )
    assert refused.status_code == 200 and "Edit the rule Desk on Slack" in text(refused)
    assert AlertRule.objects.get(pk=rule.pk).target == SLACK
    saved = admin.post(
        "/alerts/",
        {
            "action": "edit",
            "rule": rule.pk,
            "name": "Desk",
            "channel": "email",
            "target": "desk@uni.example",
            "min_state": "possible",
            "services": ["vle"],
        },
    )
    assert saved.status_code == 302
    rule = AlertRule.objects.get(pk=rule.pk)
    assert (rule.name, rule.channel, rule.target, rule.min_state) == (
        "Desk",
        "email",
        "desk@uni.example",
        "possible",
    )
    assert AlertRule.objects.count() == 1


@pytest.mark.django_db
def test_only_admins_change_rules(rule: AlertRule, clients: dict[str, Client]) -> None:
    for role in ("responder", "viewer"):
        for data in ({"action": "disable", "rule": rule.pk}, {"action": "delete", "rule": rule.pk}):
            assert clients[role].post("/alerts/", data).status_code == 403
        assert clients[role].get("/alerts/", {"edit": rule.pk}).status_code == 403
    assert clients["anonymous"].post("/alerts/", {"action": "delete", "rule": rule.pk}).status_code == 302
    assert AlertRule.objects.get(pk=rule.pk).enabled


def test_the_django_admin_shows_alert_rules_read_only(client, users) -> None:  # type: ignore[no-untyped-def]
    """Rules are written on /alerts/, where their targets are checked; the admin cannot bypass that."""
    users["admin"].is_staff = users["admin"].is_superuser = True
    users["admin"].save()
    client.force_login(users["admin"])
    assert client.get("/admin/incidents/alertrule/").status_code == 200
    assert client.get("/admin/incidents/alertrule/add/").status_code == 403


@pytest.mark.django_db
def test_a_webhook_address_is_never_shown_in_full(rule: AlertRule, clients: dict[str, Client]) -> None:
    admin = clients["admin"]
    secret = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstWXYZ"
    AlertRule.objects.filter(pk=rule.pk).update(target=secret)
    for page in (admin.get("/alerts/"), admin.get("/alerts/", {"edit": rule.pk})):
        content = page.content.decode()
        assert "abcdefghijklmnop" not in content and "T0AAAAAAA" not in content
        assert "https://hooks.slack.com/…WXYZ" in text(page)
    # Left empty on the edit form, the address is kept; a new one replaces it.
    fields = {"action": "edit", "rule": rule.pk, "name": "Desk", "channel": "slack", "min_state": "confirmed"}
    assert admin.post("/alerts/", {**fields, "target": ""}).status_code == 302
    assert AlertRule.objects.get(pk=rule.pk).target == secret
    assert admin.post("/alerts/", {**fields, "target": SLACK}).status_code == 302
    assert AlertRule.objects.get(pk=rule.pk).target == SLACK
    # Another channel needs its own address.
    refused = admin.post("/alerts/", {**fields, "channel": "teams", "target": ""})
    assert "Give the new channel's address." in field_errors(refused, "target")


@pytest.mark.django_db
def test_a_cancelled_alert_is_shown_muted_not_as_a_failure(
    rule: AlertRule, clients: dict[str, Client]
) -> None:
    incident = incident_create(service_id="vle", title="Moodle slow", started_at=timezone.now())
    (delivery,) = alerts_queue(incident_id=incident.pk, state="confirmed")
    alert_rule_set_enabled(rule=rule, enabled=False)
    cancelled = alert_deliver(delivery_id=delivery.pk)
    assert cancelled is not None and cancelled.status == DeliveryStatus.CANCELLED
    page = clients["admin"].get("/alerts/")
    cell = re.search(r"<td>(?:(?!</td>).)*Moodle slow(?:(?!</td>).)*</td>", page.content.decode(), re.S)
    assert cell is not None
    assert '<strong class="muted">Cancelled</strong>' in cell.group(0)
    assert "error-text" not in cell.group(0) and "Failed" not in cell.group(0)
    assert "not sent: the alert rule was disabled" in text(page)
    # A real failure still shows as one.
    AlertDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error="HTTP 410")
    failed = clients["admin"].get("/alerts/").content.decode()
    assert '<strong class="error-text">Failed</strong>' in failed


def header(request: Any, name: str) -> str:
    return {k.lower(): v for k, v in request.headers.items()}.get(name.lower(), "")


@pytest.mark.django_db
def test_a_test_alert_reaches_the_signed_webhook_and_the_page_says_so(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    with ReplayServer({("POST", "/hook"): [Reply(200, body="ok")]}) as server:
        rule = alert_rule_create(
            name="Ops hook", channel=AlertChannel.WEBHOOK, target=f"{server.url}/hook", secret="s3cret"
        )
        page = clients["admin"].post("/alerts/", {"action": "test", "rule": rule.pk}, follow=True)
        (request,) = server.requests_to("/hook")
    assert "Ops hook: Test alert sent: HTTP 200" in text(page)
    timestamp = header(request, "X-Servicepulse-Timestamp")
    assert verify("s3cret", timestamp, request.body, header(request, "X-Servicepulse-Signature"))
    assert header(request, "X-Servicepulse-Event") == "test"
    body = request.json()
    assert body["test"] is True and body["event"] == "test" and body["incident"] is None
    assert not AlertDelivery.objects.exists()  # sent at once, recorded nowhere


@pytest.mark.django_db
def test_a_test_alert_to_slack_says_it_is_a_test(world: dict[str, Any], clients: dict[str, Client]) -> None:
    with ReplayServer({("POST", "/slack"): [Reply(200, body="ok")]}) as server:
        rule = alert_rule_create(name="Desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        page = clients["admin"].post("/alerts/", {"action": "test", "rule": rule.pk}, follow=True)
        (request,) = server.requests_to("/slack")
    assert "Test alert sent: HTTP 200" in text(page)
    assert request.json()["text"].startswith("Test alert from servicepulse: Desk")


@pytest.mark.django_db
def test_a_refusing_target_shows_the_error_in_one_line(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    with ReplayServer({("POST", "/gone"): [Reply(410, body="gone\nfor good")]}) as server:
        rule = alert_rule_create(name="Old", channel=AlertChannel.TEAMS, target=f"{server.url}/gone")
        page = clients["admin"].post("/alerts/", {"action": "test", "rule": rule.pk}, follow=True)
    line = re.search(r'<li class="error">([^<]*)</li>', page.content.decode())
    assert line is not None and "\n" not in line.group(1)
    assert "Old: Test alert failed:" in html.unescape(line.group(1)) and "410" in line.group(1)
    with ReplayServer({}) as server:
        target = f"{server.url}/slack"
    # The server is stopped: the connection is refused.
    refused = alert_rule_create(name="Nobody", channel=AlertChannel.SLACK, target=target)
    page = clients["admin"].post("/alerts/", {"action": "test", "rule": refused.pk}, follow=True)
    assert "Nobody: Test alert failed:" in text(page) and "refused" in text(page)
    assert not AlertDelivery.objects.exists()


@pytest.mark.django_db
def test_only_admins_send_test_alerts(world: dict[str, Any], clients: dict[str, Client]) -> None:
    with ReplayServer({("POST", "/slack"): [Reply(200)]}) as server:
        rule = alert_rule_create(name="Desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        for role in ("responder", "viewer"):
            assert clients[role].post("/alerts/", {"action": "test", "rule": rule.pk}).status_code == 403
        assert clients["anonymous"].post("/alerts/", {"action": "test", "rule": rule.pk}).status_code == 302
        assert server.requests_to("/slack") == []


@pytest.mark.django_db
def test_the_test_alert_needs_the_csrf_token(world: dict[str, Any], users: dict[str, Any]) -> None:
    with ReplayServer({("POST", "/slack"): [Reply(200)]}) as server:
        rule = alert_rule_create(name="Desk", channel=AlertChannel.SLACK, target=f"{server.url}/slack")
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(users["admin"])
        assert strict.post("/alerts/", {"action": "test", "rule": rule.pk}).status_code == 403
        assert server.requests_to("/slack") == []


@pytest.mark.django_db
def test_a_targets_port_is_shown(world: dict[str, Any], clients: dict[str, Client]) -> None:
    rule = alert_rule_create(
        name="Hook", channel=AlertChannel.WEBHOOK, target="http://127.0.0.1:8080/in/hook", secret="s"
    )
    assert rule.target_shown == "http://127.0.0.1:8080/…hook"
    assert "http://127.0.0.1:8080/…hook" in text(clients["admin"].get("/alerts/"))
    AlertRule.objects.filter(pk=rule.pk).update(target="https://[::1]:8443/in/hook")
    assert AlertRule.objects.get(pk=rule.pk).target_shown == "https://[::1]:8443/…hook"


@pytest.mark.django_db
def test_a_test_alert_by_e_mail(world: dict[str, Any], clients: dict[str, Client], smtp: Any) -> None:
    rule = alert_rule_create(name="CIO", channel=AlertChannel.EMAIL, target="cio@uni.example")
    page = clients["admin"].post("/alerts/", {"action": "test", "rule": rule.pk}, follow=True)
    message = smtp.wait_for(1)[0]
    assert "CIO: Test alert sent: e-mail to cio@uni.example" in text(page)
    assert message["Subject"] == "[servicepulse] Test alert from servicepulse: CIO"
    assert "There is no incident" in message.get_content()


@pytest.mark.django_db
def test_the_quiet_hours_say_which_time_zone_they_are_in(
    world: dict[str, Any], clients: dict[str, Client], settings: Any
) -> None:
    settings.TIME_ZONE = "Pacific/Auckland"
    page = text(clients["admin"].get("/alerts/"))
    # "Quiet from" and "Quiet until" alone: the browser's zone, the server's or UTC? A rule set from abroad, or
    # read by someone abroad, was hours off.
    assert "Quiet from (Pacific/Auckland time)" in page
    assert "Quiet until (Pacific/Auckland time)" in page
    assert "In the organisation's time zone, Pacific/Auckland." in page


@pytest.mark.django_db
def test_an_alert_held_for_quiet_hours_says_until_when(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    local = timezone.localtime()
    alert_rule_create(
        name="Desk at night",
        channel=AlertChannel.SLACK,
        target=SLACK,
        quiet_start=(local - timedelta(hours=1)).time().replace(second=0, microsecond=0),
        quiet_end=(local + timedelta(hours=2)).time().replace(second=0, microsecond=0),
    )
    incident = incident_create(service_id="vle", title="Moodle slow", started_at=timezone.now())
    (delivery,) = alerts_queue(incident_id=incident.pk, state="confirmed")
    assert delivery.status == DeliveryStatus.HELD and delivery.next_attempt_at is not None
    until = timezone.localtime(delivery.next_attempt_at)
    page = text(clients["admin"].get("/alerts/"))
    # It said "Held for quiet hours" and when it was raised, not when it will be sent (the incident page did).
    assert f"Held for quiet hours {local_time_text(delivery.created_at)}" in page
    assert f"until {local_time_text(until)}" in page
    incident_page = text(clients["admin"].get(f"/incidents/{incident.pk}/"))
    assert f"Held for quiet hours until {local_time_text(until)}" in incident_page


@pytest.mark.django_db
def test_a_refused_form_keeps_the_typed_secret_and_gives_one_reason_per_mistake(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    """The signing secret was cleared whenever the form came back with an error (nothing said to type it
    again), and a quiet time of 25:00 also got "Give both ends of the quiet hours" though both were given."""
    response = post_rule(
        clients["admin"],
        channel="webhook",
        target="https://ops.example.invalid/in",
        secret="s3cret-typed-once",
        quiet_start="25:00",
        quiet_end="06:00",
    )
    assert response.status_code == 200 and not AlertRule.objects.exists()
    assert 'value="s3cret-typed-once"' in response.content.decode()
    assert field_errors(response, "quiet_start") == ["Enter a valid time."]
    assert "Give both ends" not in text(response)
