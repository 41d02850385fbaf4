from __future__ import annotations

from django.db import models

from servicepulse.sources.models import Source


class Mention(models.Model):
    """One post, comment or report from a source, in canonical form. Unique per (source, external_id)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="mentions")
    external_id = models.CharField(max_length=255)
    text = models.TextField()
    author = models.CharField(max_length=255, blank=True, default="", help_text="Display name or handle")
    author_id = models.CharField(
        max_length=255, blank=True, default="", help_text="Stable id on the platform"
    )
    url = models.URLField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField(db_index=True)
    in_reply_to = models.CharField(
        max_length=255, blank=True, default="", help_text="External id of the parent"
    )
    thread_id = models.CharField(
        max_length=255, blank=True, default="", help_text="External id of the thread root"
    )
    language = models.CharField(max_length=16, blank=True, default="")
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="mention_unique_per_source"),
        ]
        indexes = [models.Index(fields=["source", "-created_at"], name="mention_source_created")]

    def __str__(self) -> str:
        return f"{self.source.name}:{self.external_id}"

    @property
    def author_key(self) -> str:
        """Who said it, for counting distinct people: the platform id where known, else the name."""
        return f"{self.source_id}:{self.author_id or self.author}"


class Quarantine(models.Model):
    """Input that could not become a mention, kept with the reason so nothing is lost silently."""

    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, null=True, blank=True, related_name="quarantined"
    )
    raw = models.TextField(help_text="The line or payload exactly as received")
    reason = models.TextField()
    position = models.CharField(
        max_length=255, blank=True, default="", help_text="Line number or delivery id"
    )
    fingerprint = models.CharField(
        max_length=64, help_text="sha256 of position and raw, for idempotent re-runs"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "fingerprint"], name="quarantine_unique_per_source"),
        ]
        verbose_name_plural = "quarantine"

    def __str__(self) -> str:
        return f"{self.position}: {self.reason}"
