"""The learning digest (what peers and the industry discussed each week) and cross-posted copies of blog posts."""

from __future__ import annotations

from django.db import models


class Digest(models.Model):
    """One week's digest of the peer sources: a few topics, each with its telling terms and example posts."""

    week_start = models.DateField(
        unique=True, help_text="Monday of the week, in the organisation's time zone"
    )
    generated_at = models.DateTimeField()
    post_count = models.PositiveIntegerField(default=0)
    topics = models.JSONField(
        default=list,
        help_text="[{name, terms, size, mention_ids (best examples first), service_ids}] most discussed first",
    )
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week_start"]

    def __str__(self) -> str:
        return f"digest for the week of {self.week_start}"
