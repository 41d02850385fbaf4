"""Alert messages and their channels: Slack incoming webhook, Microsoft Teams workflow webhook (an Adaptive
Card), e-mail, and a generic webhook signed with HMAC-SHA256.

Generic webhook signature: ``X-Servicepulse-Signature: sha256=<hex>`` where ``<hex>`` is
``HMAC-SHA256(secret, f"{timestamp}.{body}")`` and ``timestamp`` is the ``X-Servicepulse-Timestamp`` header
(Unix seconds). Receivers should recompute it over the raw body, compare in constant time and reject old
timestamps (replay window). ``X-Servicepulse-Delivery`` is stable across retries of the same delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.urls import NoReverseMatch, reverse

from servicepulse.core.fetcher import HTTP_SCHEMES, FetchError, allow_private, check_url, fetch
from servicepulse.core.times import local_time_text
from servicepulse.incidents.models import (
    ActivityType,
    AlertChannel,
    AlertDelivery,
    AlertRule,
    Incident,
    IncidentKind,
    IncidentState,
    incident_state_label,
)
from servicepulse.incidents.selectors import summary_as_shown

# The longest one attempt may take, by HTTP or SMTP: a silent target must not hang a worker.
SEND_SECONDS = 20.0
# A test alert is sent while an admin waits for the page: a shorter wait.
TEST_SEND_SECONDS = 8.0
TEST_EVENT = "test"


class TargetError(ValueError):
    """A rule's target no alert could ever be delivered to (the message says why, for the person typing it)."""


class DeliveryError(Exception):
    """A channel refused or failed the alert. ``permanent`` errors are not retried."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        permanent: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.permanent = permanent
        self.retry_after = retry_after  # seconds the target asked us to wait (Retry-After on 429 and 503)


@dataclass(frozen=True)
class AlertMessage:
    event: str
    title: str
    text: str
    url: str
    data: dict[str, Any]


def incident_url(incident: Incident) -> str:
    try:
        path = reverse("dashboard:incident", args=[incident.pk])
    except NoReverseMatch:
        path = f"/incidents/{incident.pk}/"  # where the dashboard serves it
    return f"{settings.BASE_URL}{path}"


def alert_message(incident: Incident, state: str) -> AlertMessage:
    # "Problem detected" only for what detection found: one opened by hand is an "Incident".
    headline = incident_state_label(state=state, kind=incident.kind)
    service = incident.service.name
    explanation = incident.explanation or {}
    summary = str(explanation.get("summary") or "")
    # As the incident page words it: a resolved incident's "since 04:00" reads as still going on, and one held
    # through quiet hours past midnight needs the day it began.
    summary = summary_as_shown(summary, incident=incident) if summary else _without_explanation(incident)
    lines = [summary, _when(incident, state)]
    if explanation.get("terms"):
        lines.append("Rising words: " + ", ".join(t["term"] for t in explanation["terms"][:5]))
    for text in (explanation.get("representatives") or [])[:2]:
        lines.append(f"“{text[:200]}”")
    if explanation.get("summary"):
        # The body carries the summary as the text words it: the stored one's bare "since 11:41" was true on
        # the day it was written, and read as today's in an alert about an incident a week old.
        explanation = {**explanation, "summary": summary}
    url = incident_url(incident)
    return AlertMessage(
        event=f"incident.{state}",
        # A detected incident's title already names its service ("Moodle VLE: complaints rising").
        title=f"{headline}: {incident.title}"
        if incident.title.startswith(f"{service}:")
        else f"{headline}: {service} — {incident.title}",
        text="\n".join(lines),
        url=url,
        data={
            "id": incident.pk,
            "service": incident.service_id,
            "service_name": service,
            "kind": incident.kind,
            "state": state,
            "title": incident.title,
            "started_at": incident.started_at.isoformat(),
            "affected_authors": incident.affected_authors,
            "url": url,
            "explanation": explanation,
        },
    )


def _when(incident: Incident, state: str) -> str:
    """Since when, in the organisation's time zone with the day (an alert read at 3 a.m. about a problem
    that began before midnight must not be ambiguous)."""
    line = f"Started {local_time_text(incident.started_at)}"
    if state == IncidentState.RESOLVED and incident.resolved_at is not None:
        line += f", resolved {local_time_text(incident.resolved_at)}"
    return line + "."


def _without_explanation(incident: Incident) -> str:
    """The first line of an alert for an incident detection did not explain (one opened by hand): who
    opened it and their note, and the people affected once complaints have attached to it."""
    if incident.kind == IncidentKind.DETECTED:
        return f"{incident.affected_authors} people affected."
    created = incident.activities.filter(type=ActivityType.CREATED).select_related("user").first()
    who = f" by {created.user.get_username()}" if created is not None and created.user is not None else ""
    line = f"Opened by hand{who}"
    line += f": {created.comment}" if created is not None and created.comment else "."
    if incident.affected_authors:
        line += f" {incident.affected_authors} people affected so far."
    return line


def email_recipients(target: str) -> list[str]:
    """The addresses of an e-mail rule's target (separated by commas or semicolons), each once."""
    return list(dict.fromkeys(a.strip() for a in target.replace(";", ",").split(",") if a.strip()))


def _url_target(channel: AlertChannel, target: str) -> str:
    url = target.strip()
    # Slack and Teams hand out https:// addresses only; plain http is allowed for them only where the
    # fetcher may reach private addresses too (tests and local demos post to a server on 127.0.0.1).
    https_only = channel in (AlertChannel.SLACK, AlertChannel.TEAMS) and not allow_private()
    schemes: tuple[str, ...] = ("https",) if https_only else HTTP_SCHEMES
    wanted = "an https://" if https_only else "an http:// or https://"
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in schemes
        or not parts.hostname
        or any(c.isspace() or ord(c) < 32 for c in url)
    ):
        shown = url if len(url) <= 60 else url[:59] + "…"
        raise TargetError(f"{channel.label} needs {wanted} address; “{shown}” is not one.")
    try:
        # Refuses credentials in the URL and a host with an address the fetcher would never connect to.
        check_url(url, schemes=schemes)
    except FetchError as exc:
        raise TargetError(f"Alerts could never be sent there: {exc}.") from None
    return url


def _email_target(target: str) -> str:
    addresses = email_recipients(target)
    if not addresses:
        raise TargetError("Give at least one e-mail address.")
    bad = []
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise TargetError(f"Not an e-mail address: {', '.join(f'“{a}”' for a in bad)}.")
    return ", ".join(addresses)


def checked_target(*, channel: str, target: str) -> str:
    """The target as a rule stores it (trimmed; e-mail addresses as one comma-separated list), or
    `TargetError` when no alert could ever be delivered to it through `channel`: a webhook needs an http(s)
    address (https for Slack and Teams) that the fetcher would connect to, e-mail valid addresses."""
    try:
        kind = AlertChannel(channel)
    except ValueError:
        raise TargetError(f"Unknown channel {channel!r}.") from None
    if kind == AlertChannel.EMAIL:
        return _email_target(target)
    return _url_target(kind, target)


def slack_escape(text: str) -> str:
    """Text for Slack's mrkdwn with its control characters (&, <, >) as the entities Slack asks for: the
    complaints quoted in an alert are users' words, and "<!channel>" in one must not notify a whole channel
    (nor "<https://…|label>" become a disguised link)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_fit(text: str, limit: int) -> str:
    """`text` escaped for mrkdwn within `limit` characters (a section's text takes 3,000), never cutting an
    entity in half."""
    out: list[str] = []
    size = 0
    for char in text:
        piece = slack_escape(char)
        if size + len(piece) > limit:
            return "".join(out).rstrip() + "…"
        out.append(piece)
        size += len(piece)
    return "".join(out)


def slack_payload(message: AlertMessage) -> dict[str, Any]:
    return {
        "text": f"{slack_escape(message.title)}\n{slack_escape(message.text)}\n{message.url}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _slack_fit(message.text, 2900)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{message.url}|Open in servicepulse>"}},
        ],
    }


def teams_text(text: str, **style: Any) -> dict[str, Any]:
    """`text` as an Adaptive Card element that shows it as it is. A TextBlock reads its text as Markdown, and
    an alert quotes users' words (posts, rising words, a note, an incident's title): "[log in](https://…)" in
    a post would become a disguised link in the channel, "**…**" bold. A RichTextBlock's TextRun is never read
    as Markdown, and needs no backslash escapes (which some Teams clients show as typed)."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


def teams_payload(message: AlertMessage) -> dict[str, Any]:
    """A message with one Adaptive Card, as a Teams 'post to a channel when a webhook request is received'
    workflow expects. Every line is shown as it is (see `teams_text`)."""
    lines = [line for line in message.text.split("\n") if line.strip()]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        teams_text(message.title, weight="Bolder", size="Medium"),
                        *(teams_text(line) for line in lines),
                    ],
                    "actions": [
                        {"type": "Action.OpenUrl", "title": "Open in servicepulse", "url": message.url}
                    ],
                },
            }
        ],
    }


def webhook_body(message: AlertMessage, delivery_id: int) -> dict[str, Any]:
    return {"event": message.event, "delivery": delivery_id, "incident": message.data}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, window: int = 300) -> bool:
    """What a receiver does: constant-time comparison and a replay window in seconds."""
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return False
    return age <= window and hmac.compare_digest(sign(secret, timestamp, body), signature)


def _post_json(url: str, payload: dict[str, Any], *, deadline: float = SEND_SECONDS) -> int:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return _post(url, body, {}, deadline=deadline)


def _post(url: str, body: bytes, headers: dict[str, str], *, deadline: float = SEND_SECONDS) -> int:
    try:
        response = fetch(
            url,
            method="POST",
            content=body,
            headers={"Content-Type": "application/json", **headers},
            max_bytes=64 * 1024,
            deadline=deadline,
            max_redirects=0,
        )
    except FetchError as exc:
        # 4xx other than 408/429 means the target refuses this request: retrying will not help.
        permanent = exc.status is not None and 400 <= exc.status < 500 and exc.status not in (408, 429)
        raise DeliveryError(
            str(exc), status=exc.status, permanent=permanent, retry_after=exc.retry_after
        ) from exc
    return response.status


def send(delivery: AlertDelivery) -> int | None:
    """Send one delivery through its rule's channel; returns the HTTP status (None for e-mail)."""
    message = alert_message(delivery.incident, delivery.incident_state)
    body = webhook_body(message, delivery.pk)
    return _send(delivery.rule, message, webhook=body, delivery=str(delivery.pk), deadline=SEND_SECONDS)


def trial_message(rule: AlertRule) -> AlertMessage:
    """A message that says plainly it is a test, about no incident."""
    try:
        url = f"{settings.BASE_URL}{reverse('dashboard:alerts')}"
    except NoReverseMatch:
        url = f"{settings.BASE_URL}/alerts/"
    return AlertMessage(
        event=TEST_EVENT,
        title=f"Test alert from servicepulse: {rule.name}",
        text=(
            f"This is a test of the alert rule “{rule.name}”, sent by hand from the Alert rules page. "
            "There is no incident: nothing needs doing."
        ),
        url=url,
        # Shaped as a real alert's "incident": the rule's "id" and its "name".
        data={"id": rule.pk, "name": rule.name},
    )


def send_trial(rule: AlertRule, *, deadline: float = TEST_SEND_SECONDS) -> int | None:
    """Send a test alert through `rule`'s channel now, with the channel code real alerts use (the signed
    webhook signs it the same way; its body has ``"test": true``, the rule as ``{"id", "name"}`` and no
    incident, and its ``delivery`` is the ``X-Servicepulse-Delivery`` header's "test-…" id, as a real alert's
    is its header's); returns the HTTP status (None for e-mail) or raises `DeliveryError`. Nothing is queued
    or recorded."""
    message = trial_message(rule)
    delivery = f"test-{uuid.uuid4().hex}"
    body = {"event": TEST_EVENT, "test": True, "delivery": delivery, "rule": message.data, "incident": None}
    return _send(rule, message, webhook=body, delivery=delivery, deadline=deadline)


def _smtp_timeout(deadline: float) -> float:
    # Django's SMTP backend waits forever by default (EMAIL_TIMEOUT unset); a test alert waits less still.
    timeout = float(settings.EMAIL_TIMEOUT or deadline)
    return min(timeout, deadline) if deadline < SEND_SECONDS else timeout


def _send(
    rule: AlertRule, message: AlertMessage, *, webhook: dict[str, Any], delivery: str, deadline: float
) -> int | None:
    if rule.channel == AlertChannel.SLACK:
        return _post_json(rule.target.strip(), slack_payload(message), deadline=deadline)
    if rule.channel == AlertChannel.TEAMS:
        return _post_json(rule.target.strip(), teams_payload(message), deadline=deadline)
    if rule.channel == AlertChannel.WEBHOOK:
        body = json.dumps(webhook, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {
            "X-Servicepulse-Event": message.event,
            "X-Servicepulse-Delivery": delivery,
            "X-Servicepulse-Timestamp": timestamp,
        }
        secret = rule.secret
        if secret:
            headers["X-Servicepulse-Signature"] = sign(secret, timestamp, body)
        return _post(rule.target.strip(), body, headers, deadline=deadline)
    if rule.channel == AlertChannel.EMAIL:
        recipients = email_recipients(rule.target)
        if not recipients:
            raise DeliveryError("no e-mail address in the rule", permanent=True)
        email = EmailMessage(
            # One line: a title with a line break in it would be refused as a header injection.
            subject=" ".join(f"[servicepulse] {message.title}".split()),
            body=f"{message.text}\n\n{message.url}\n",
            to=recipients,
            headers={"X-Servicepulse-Event": message.event},
            connection=get_connection(timeout=_smtp_timeout(deadline)),
        )
        try:
            email.send(fail_silently=False)
        except OSError as exc:
            raise DeliveryError(f"SMTP: {exc}") from exc
        return None
    raise DeliveryError(f"unknown channel {rule.channel!r}", permanent=True)
