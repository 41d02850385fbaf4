from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Service(models.Model):
    """An IT service in the organisation's catalogue. Mentions are tagged to services by their `id` (a slug)."""

    id = models.SlugField(primary_key=True, max_length=64)
    name = models.CharField(max_length=200)
    aliases = models.JSONField(
        default=list, blank=True, help_text="Other names users call it, e.g. moodle, vle"
    )
    description = models.TextField(blank=True)
    examples = models.JSONField(default=list, blank=True, help_text="A few example posts about this service")
    team = models.CharField(max_length=200, blank=True, help_text="The team that owns the service")
    public = models.BooleanField(default=True, help_text="Shown as a component on the public status page")
    sensitivity = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(10.0)],
        help_text="Detection sensitivity: above 1 alerts earlier, below 1 needs a stronger rise",
    )
    target_score = models.IntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-100), MaxValueValidator(100)],
        help_text="Experience score target (-100..100)",
    )
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name
