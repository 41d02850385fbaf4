"""The dashboard's own read model: per service and local day, the counts the board and service page draw.

A rollup of the analysis app's `ServiceTag` rows (derived data, never edited by hand): finished days are kept
here so the board reads a few hundred rows instead of scanning a million posts; today is always counted live
from `ServiceTag`, so the pages never lag, and a finished day is recounted at the next read when posts of that
day are analysed later (an import of last month's posts). `dashboard.services` is the only writer.
"""

from __future__ import annotations

from django.db import models

from servicepulse.catalog.models import Service


class ServiceDay(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="Local calendar day (settings.TIME_ZONE)")
    posts = models.PositiveIntegerField(default=0, help_text="Non-spam posts tagged to the service")
    complaints = models.PositiveIntegerField(default=0, help_text="Non-spam complaints")
    positive = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    spam = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "day"], name="service_day_unique")]
        indexes = [models.Index(fields=["day"], name="service_day_day")]

    def __str__(self) -> str:
        return f"{self.service_id} {self.day}"


class RollupState(models.Model):
    """One row: the last local day whose rollup is complete (older days are read from `ServiceDay`), and the
    newest service tag it has looked at, so posts analysed later for days already closed (a file of last
    month's posts imported today) are recounted at the next read instead of the next night."""

    complete_until = models.DateField(null=True, blank=True)
    tags_seen_until = models.BigIntegerField(
        null=True, blank=True, help_text="The highest ServiceTag id whose day the rollup has counted"
    )
    refreshed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"rollup complete until {self.complete_until}"
