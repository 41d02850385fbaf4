"""Incidents raised from complaint chatter (or opened by hand, or planned), their activity and alerts.

Only `services.incident_update_status` changes an incident's state; it writes the IncidentActivity row in the
same transaction (see sentry's `incidents/logic.py`, `update_incident_status`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone

from servicepulse.catalog.models import Service
from servicepulse.core.crypto import decrypt_json, encrypt_json
from servicepulse.mentions.models import Mention


class IncidentState(models.TextChoices):
    POSSIBLE = "possible", "Possible problem"
    CONFIRMED = "confirmed", "Problem detected"
    RESOLVED = "resolved", "Resolved"


class IncidentKind(models.TextChoices):
    DETECTED = "detected", "Detected"
    MANUAL = "manual", "Opened by hand"
    MAINTENANCE = "maintenance", "Planned maintenance"


class ActivityType(models.TextChoices):
    CREATED = "created", "Created"
    STATE_CHANGED = "state_changed", "State changed"
    MENTIONS_ATTACHED = "mentions_attached", "Posts attached"
    NOTE = "note", "Note"


OPEN_STATES = (IncidentState.POSSIBLE, IncidentState.CONFIRMED)

# An incident a person opened is confirmed only in the state machine's sense: nothing was detected.
MANUAL_OPEN_LABEL = "Incident"


def incident_state_label(*, state: str, kind: str) -> str:
    """The words for an incident's `state` on every page and alert: "Possible problem", "Problem detected"
    (what detection found and confirmed), "Resolved"; an incident opened by hand and open is an "Incident"."""
    if kind == IncidentKind.MANUAL and state == IncidentState.CONFIRMED:
        return MANUAL_OPEN_LABEL
    try:
        return str(IncidentState(state).label)
    except ValueError:
        return state


class DetectorSnapshot(models.Model):
    """The streaming detector of one service, persisted between detection runs."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="detector")
    state = models.JSONField(default=dict)
    last_bucket = models.DateTimeField(null=True, blank=True, help_text="Start of the last bucket fed")
    feed_from = models.DateTimeField(
        null=True, blank=True, help_text="Where a backfill asked detection to start (until a bucket is fed)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"detector for {self.service_id}"


class Incident(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="incidents")
    kind = models.CharField(max_length=16, choices=IncidentKind.choices, default=IncidentKind.DETECTED)
    state = models.CharField(max_length=16, choices=IncidentState.choices, default=IncidentState.POSSIBLE)
    title = models.CharField(max_length=300)
    started_at = models.DateTimeField(
        db_index=True, help_text="Onset: first bucket of the rise, or planned start"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True, help_text="Maintenance: planned end")
    affected_authors = models.PositiveIntegerField(
        default=0, help_text="Distinct people whose posts are attached"
    )
    peak_score = models.FloatField(
        default=0.0, help_text="Largest detector evidence (1 = confirmation level)"
    )
    explanation = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["service", "state"], name="incident_service_state")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def upcoming(self) -> bool:
        """Planned maintenance whose window has not started yet (scheduled, not under way)."""
        return (
            self.kind == IncidentKind.MAINTENANCE
            and self.state != IncidentState.RESOLVED
            and self.started_at > timezone.now()
        )

    @property
    def state_label(self) -> str:
        """Its state in words (`incident_state_label`): "Incident" for one opened by hand, not "Problem
        detected"."""
        return incident_state_label(state=self.state, kind=self.kind)

    @property
    def cancelled_before_start(self) -> bool:
        """Planned maintenance ended before its window began: the work was called off, not done. It is recorded
        as resolved (the one ending state); the pages read it as cancelled, not as "completed" in no time."""
        return (
            self.kind == IncidentKind.MAINTENANCE
            and self.resolved_at is not None
            and self.resolved_at < self.started_at
        )

    @property
    def faded_unconfirmed(self) -> bool:
        """A rise detection followed that fell back before it was strong enough to confirm an incident."""
        return (
            self.kind == IncidentKind.DETECTED
            and self.state == IncidentState.RESOLVED
            and not self.confirmed_at
        )

    @property
    def shown_state(self) -> str:
        """Its state in the words of the incident pages and the incidents export: maintenance is Scheduled,
        under way (Maintenance) or Cancelled before it started; a detected rise that faded before it was
        confirmed says so; else `state_label`."""
        if self.cancelled_before_start:
            return "Cancelled"
        if self.faded_unconfirmed:
            return "Faded, not confirmed"
        if self.upcoming:
            return "Scheduled"
        if self.kind == IncidentKind.MAINTENANCE and self.state != IncidentState.RESOLVED:
            return "Maintenance"
        return self.state_label

    @property
    def board_state(self) -> str:
        """How the board shows it: maintenance, a possible problem, or an incident."""
        if self.kind == IncidentKind.MAINTENANCE:
            return "maintenance"
        return "possible" if self.state == IncidentState.POSSIBLE else "incident"


class IncidentActivity(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="activities")
    type = models.CharField(max_length=24, choices=ActivityType.choices)
    previous_state = models.CharField(max_length=16, blank=True, default="")
    state = models.CharField(max_length=16, blank=True, default="")
    comment = models.TextField(blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(help_text="When it happened (detection time for detected changes)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "incident activities"

    def __str__(self) -> str:
        return f"{self.incident_id} {self.type} {self.state}"


class IncidentMention(models.Model):
    """A complaint attached to an incident ("me too")."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="incident_attachments")
    author_key = models.CharField(max_length=600)
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "mention"], name="incident_mention_once"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} <- {self.mention_id}"


class AlertChannel(models.TextChoices):
    SLACK = "slack", "Slack incoming webhook"
    TEAMS = "teams", "Microsoft Teams workflow webhook"
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Signed webhook"


class AlertRule(models.Model):
    """Who hears about which incidents, where, and when not to."""

    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=16, choices=AlertChannel.choices)
    target = models.TextField(help_text="Webhook URL, or e-mail addresses separated by commas")
    secrets_encrypted = models.TextField(
        blank=True, default="", help_text="Webhook signing secret, encrypted"
    )
    services = models.ManyToManyField(Service, blank=True, related_name="alert_rules", help_text="Empty: all")
    min_state = models.CharField(
        max_length=16,
        choices=[
            (IncidentState.POSSIBLE, IncidentState.POSSIBLE.label),
            (IncidentState.CONFIRMED, IncidentState.CONFIRMED.label),
        ],
        default=IncidentState.CONFIRMED,
        help_text="Alert from this state on (resolution is always announced for incidents alerted before)",
    )
    quiet_start = models.TimeField(null=True, blank=True, help_text="Quiet hours start (local time)")
    quiet_end = models.TimeField(null=True, blank=True, help_text="Quiet hours end (local time)")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def quiet_hours(self) -> str:
        if self.quiet_start is None or self.quiet_end is None:
            return ""
        return f"{self.quiet_start:%H:%M} to {self.quiet_end:%H:%M}"

    @property
    def target_shown(self) -> str:
        """The target as pages show it. A webhook address is a secret (whoever has it can post to the
        channel): only its host and last four characters, enough to tell two apart."""
        if self.channel == AlertChannel.EMAIL:
            return self.target
        parts = urlsplit(self.target.strip())
        host = parts.hostname or ""
        if ":" in host:  # an IPv6 address, bracketed as in the URL
            host = f"[{host}]"
        try:
            port = parts.port
        except ValueError:  # not a number: only stored before targets were checked
            port = None
        if port is not None:
            host += f":{port}"  # two receivers on one host differ by port
        return f"{parts.scheme}://{host}/…{self.target.strip()[-4:]}"

    @property
    def secret(self) -> str:
        return str(decrypt_json(self.secrets_encrypted).get("secret", ""))

    def set_secret(self, value: str) -> None:
        self.secrets_encrypted = encrypt_json({"secret": value}) if value else ""


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    HELD = "held", "Held for quiet hours"
    FAILED = "failed", "Failed"
    # Not sent, and rightly so: its rule was disabled, or a newer state change of the incident superseded it.
    CANCELLED = "cancelled", "Cancelled"


class AlertDelivery(models.Model):
    """One alert for one incident state change through one rule. The unique constraints deduplicate per
    state change (its activity row), so a reopened incident is alerted again; a delivery queued with no
    activity row to key on (none recorded) is deduplicated per state instead."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="deliveries")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="deliveries")
    incident_state = models.CharField(max_length=16, choices=IncidentState.choices)
    activity = models.ForeignKey(
        IncidentActivity,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        help_text="The state change (created or state changed) this alert announces",
    )
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    response_status = models.PositiveIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    log = models.JSONField(default=list, blank=True, help_text="Every attempt: time, outcome, detail")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "activity"], name="alert_once_per_state_change"),
            models.UniqueConstraint(
                fields=["rule", "incident", "incident_state"],
                condition=models.Q(activity__isnull=True),
                name="alert_once_per_state_unrecorded",
            ),
        ]
        verbose_name_plural = "alert deliveries"

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.incident_id}/{self.incident_state}: {self.status}"

    @property
    def incident_state_label(self) -> str:
        """The state alerted, as the alert worded it (`incident_state_label`)."""
        return incident_state_label(state=self.incident_state, kind=self.incident.kind)

    def add_log(self, **entry: Any) -> None:
        self.log = [*self.log, entry]

    @property
    def cancelled_because(self) -> str:
        """Why a cancelled delivery was not sent (its log's last word), else empty."""
        if self.status != DeliveryStatus.CANCELLED or not self.log:
            return ""
        return str(self.log[-1].get("detail", ""))


class TermPeriod(models.Model):
    """A period of the organisation's calendar (teaching, reading week, exams, holiday): the detector's
    baseline learns a level per kind. Set from a JSON file (`SERVICEPULSE_TERM_CALENDAR`) or by the demo."""

    start = models.DateTimeField()
    end = models.DateTimeField()
    kind = models.CharField(max_length=40)

    class Meta:
        ordering = ["start"]

    def __str__(self) -> str:
        return f"{self.kind} {self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}"
