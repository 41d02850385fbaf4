from __future__ import annotations

from typing import Any

from django.db import models

from servicepulse.core.crypto import decrypt_json, encrypt_json


class SourceKind(models.TextChoices):
    RSS = "rss", "RSS/Atom feed"
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    REDDIT = "reddit", "Reddit"
    FACEBOOK = "facebook", "Facebook Page"
    X = "x", "X"
    DISCOURSE = "discourse", "Discourse"
    SLACK = "slack", "Slack"
    WIDGET = "widget", "Report-a-problem widget"
    IMPORT = "import", "File import"
    BLOG = "blog", "Blog comments"


class Audience(models.TextChoices):
    USERS = "users", "Users of our services"
    PEERS = "peers", "Peers and industry (for the learning digest)"


class Source(models.Model):
    """A channel servicepulse listens to. Options are plain settings; secrets are encrypted at rest."""

    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    name = models.CharField(max_length=200, unique=True)
    options = models.JSONField(default=dict, blank=True)
    secrets_encrypted = models.TextField(blank=True, default="")
    cursor = models.JSONField(default=dict, blank=True, help_text="Where the next pull starts")
    enabled = models.BooleanField(default=True)
    audience = models.CharField(
        max_length=10,
        choices=Audience.choices,
        default=Audience.USERS,
        help_text="Users' channels are analysed and scored; peers' feed the weekly learning digest only",
    )
    retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Delete this source's posts after this many days (empty: keep)"
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    next_try_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_demo(self) -> bool:
        """Loaded by `servicepulse demo`: generated posts, nothing to pull, kept paused."""
        return bool((self.options or {}).get("demo"))

    @property
    def secrets(self) -> dict[str, Any]:
        return decrypt_json(self.secrets_encrypted)

    def set_secrets(self, value: dict[str, Any]) -> None:
        self.secrets_encrypted = encrypt_json(value) if value else ""

    @property
    def healthy(self) -> bool:
        if self.last_error_at is None:
            return True
        return self.last_success_at is not None and self.last_success_at > self.last_error_at
