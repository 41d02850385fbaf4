"""The public status page: components are the catalogue's public services; incidents with timestamped
updates, scheduled maintenance, and e-mail subscriptions per component."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from servicepulse.catalog.models import Service


class ComponentState(models.TextChoices):
    """A component's state, as Atlassian Statuspage names them."""

    OPERATIONAL = "operational", "Operational"
    MAINTENANCE = "maintenance", "Under maintenance"
    DEGRADED = "degraded", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"


# Worse states rank higher; a day's bar and a component's state take the worst that applies.
SEVERITY: dict[str, int] = {
    ComponentState.OPERATIONAL: 0,
    ComponentState.MAINTENANCE: 1,
    ComponentState.DEGRADED: 2,
    ComponentState.PARTIAL_OUTAGE: 3,
    ComponentState.MAJOR_OUTAGE: 4,
}


class Impact(models.TextChoices):
    """What an incident does to the components it affects."""

    DEGRADED = ComponentState.DEGRADED.value, ComponentState.DEGRADED.label
    PARTIAL_OUTAGE = ComponentState.PARTIAL_OUTAGE.value, ComponentState.PARTIAL_OUTAGE.label
    MAJOR_OUTAGE = ComponentState.MAJOR_OUTAGE.value, ComponentState.MAJOR_OUTAGE.label


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class PublicIncident(models.Model):
    """An incident as the public sees it. `status` changes only through `public_incident_update`."""

    title = models.CharField(max_length=200)
    impact = models.CharField(max_length=20, choices=Impact.choices, default=Impact.DEGRADED)
    status = models.CharField(
        max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    services = models.ManyToManyField(Service, related_name="public_incidents")
    detected_incident_id = models.BigIntegerField(
        null=True,
        blank=True,
        unique=True,
        help_text="The detected incident (incidents app) this was published from",
    )
    started_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_resolved(self) -> bool:
        return self.status == IncidentStatus.RESOLVED


class IncidentUpdate(models.Model):
    """One timestamped update on a public incident; the incident's status is that of its latest update."""

    incident = models.ForeignKey(PublicIncident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=20, choices=IncidentStatus.choices)
    body = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.status} at {self.created_at:%Y-%m-%d %H:%M}"


class MaintenanceState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Maintenance(models.Model):
    """A planned window; its state follows the clock (scheduled, in progress, completed) unless cancelled."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    services = models.ManyToManyField(Service, related_name="maintenances")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField(db_index=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    detection_incident_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="The incidents app's maintenance windows mirroring this one, per service",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def state_at(self, at: datetime) -> MaintenanceState:
        if self.cancelled_at is not None:
            return MaintenanceState.CANCELLED
        if at < self.starts_at:
            return MaintenanceState.SCHEDULED
        if at < self.ends_at:
            return MaintenanceState.IN_PROGRESS
        return MaintenanceState.COMPLETED


class Subscription(models.Model):
    """A confirmed e-mail subscription to one component (or, with no service, to every component).

    Rows exist only after the double opt-in link was followed: nothing about a person is stored before they
    confirm. Unsubscribing keeps the row with `unsubscribed_at` (a resubscription needs a new opt-in) until
    `services.status_forget_old` deletes it, SERVICEPULSE_STATUS_EMAIL_LOG_DAYS later.
    """

    email = models.EmailField()
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    confirmed_at = models.DateTimeField()
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["email", "service_id"]
        constraints = [
            models.UniqueConstraint(fields=["email", "service"], name="subscription_unique_per_component"),
            models.UniqueConstraint(
                fields=["email"], condition=Q(service__isnull=True), name="subscription_unique_all_components"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.service_id or 'all components'}"

    @property
    def active(self) -> bool:
        return self.unsubscribed_at is None


class Notification(models.Model):
    """One e-mail sent to one address about one update or maintenance: a re-run sends nothing twice."""

    email = models.EmailField()
    key = models.CharField(max_length=64, help_text="update:<id> or maintenance:<id>")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["email", "key"], name="notification_once_per_address")]

    def __str__(self) -> str:
        return f"{self.key} → {self.email}"
