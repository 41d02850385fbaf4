from __future__ import annotations

from datetime import timedelta

from django.db import models

from servicepulse.catalog.models import Service


class Priority(models.TextChoices):
    P1 = "P1", "P1 (critical)"
    P2 = "P2", "P2 (high)"
    P3 = "P3", "P3 (medium)"
    P4 = "P4", "P4 (low)"


class Ticket(models.Model):
    """A service-desk ticket imported from the organisation's ITSM tool, to set SLA figures beside what users
    said. `key` makes re-imports idempotent: the ticket's reference when the file has one, else a fingerprint
    of its opening time, service, priority and occurrence in the file."""

    key = models.CharField(max_length=128, unique=True)
    reference = models.CharField(max_length=100, blank=True, default="")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="tickets")
    priority = models.CharField(max_length=2, choices=Priority.choices)
    opened_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    origin = models.CharField(
        max_length=255, blank=True, default="", help_text="File it came from, or 'demo'"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["service", "opened_at"], name="ticket_service_opened")]

    def __str__(self) -> str:
        return self.reference or self.key

    @property
    def resolution_time(self) -> timedelta | None:
        return None if self.resolved_at is None else self.resolved_at - self.opened_at


class ReportDelivery(models.Model):
    """The weekly report for `week` sent to `recipient`: the Monday job sends each week once to each address,
    even when it runs again (a retried task, a second scheduler), unless a resend is asked for."""

    week = models.CharField(max_length=8, help_text="ISO week, e.g. 2026-W47")
    recipient = models.CharField(max_length=254)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["week", "recipient"], name="report_delivery_once_per_week")
        ]

    def __str__(self) -> str:
        return f"{self.week} to {self.recipient}"
