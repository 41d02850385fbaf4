from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per running worker or scheduler process; /health/ reads the freshest beat."""

    class Kind(models.TextChoices):
        WORKER = "worker", "worker"
        SCHEDULER = "scheduler", "scheduler"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WORKER)
    hostname = models.CharField(max_length=200, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class Lease(models.Model):
    """A named role only one process may hold at a time (the scheduler's): taken when free or expired,
    renewed by its holder before it expires, so a second process stands by and takes over when the first
    stops or loses the database."""

    name = models.CharField(max_length=100, primary_key=True)
    holder = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder or 'nobody'}"
