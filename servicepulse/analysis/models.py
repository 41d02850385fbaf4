"""What the understanding pipeline concluded about each mention, and the analysts' corrections.

`MentionAnalysis` holds the effective labels (a correction overrides the model at once; the model's own answer
is kept in `model_output`). `ServiceTag` links an analysis to catalogue services, best first, and repeats the
few fields every per-service aggregate needs (time, complaint, sentiment, spam) so the board and detection
count with one index scan instead of a join. `analysis.services` is the only writer of both, keeping them equal.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from servicepulse.catalog.models import Service
from servicepulse.mentions.models import Mention


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class MentionAnalysis(models.Model):
    mention = models.OneToOneField(
        Mention, primary_key=True, on_delete=models.CASCADE, related_name="analysis"
    )
    created_at = models.DateTimeField(db_index=True, help_text="The mention's time, repeated for aggregates")
    complaint = models.BooleanField(default=False)
    complaint_score = models.FloatField(default=0.0, help_text="Probability that the post is a complaint")
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    sentiment_score = models.FloatField(default=0.0, help_text="P(positive) - P(negative), from -1 to 1")
    spam = models.BooleanField(default=False)
    spam_score = models.FloatField(default=0.0, help_text="Probability that the post is spam")
    language = models.CharField(max_length=16, blank=True, default="")
    duplicate_of = models.ForeignKey(
        Mention,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Near-duplicate of",
    )
    corrected = models.JSONField(
        default=list, blank=True, help_text="Fields whose value comes from a correction"
    )
    model_output = models.JSONField(default=dict, blank=True, help_text="The models' own answer")
    model_version = models.CharField(max_length=64, blank=True, default="")
    analysed_at = models.DateTimeField()
    services = models.ManyToManyField(Service, through="ServiceTag", related_name="analyses")

    class Meta:
        indexes = [models.Index(fields=["complaint", "spam", "created_at"], name="analysis_complaints")]

    def __str__(self) -> str:
        return f"analysis of mention {self.mention_id}"

    @property
    def service_ids(self) -> list[str]:
        return [tag.service_id for tag in sorted(self.tags.all(), key=lambda t: t.rank)]


# The rank of a post's first tag: the service it is most about. The experience score (the board, the service
# page, the weekly report) counts each post once, there; a second tag is often a service named in passing
# ("can't sign in to moodle") and would put the VLE's outage into single sign-on's score. Complaint volume
# (detection, the complaint charts and counts, the explorer's service filter) reads every tag.
PRIMARY_RANK = 0


class ServiceTag(models.Model):
    analysis = models.ForeignKey(MentionAnalysis, on_delete=models.CASCADE, related_name="tags")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="tags")
    confidence = models.FloatField(default=1.0)
    rank = models.PositiveSmallIntegerField(default=0, help_text="0 is the best match")
    created_at = models.DateTimeField()
    complaint = models.BooleanField(default=False)
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    spam = models.BooleanField(default=False)

    class Meta:
        ordering = ["rank"]
        constraints = [models.UniqueConstraint(fields=["analysis", "service"], name="service_tag_unique")]
        indexes = [models.Index(fields=["service", "created_at"], name="service_tag_time")]

    def __str__(self) -> str:
        return f"{self.service_id} ({self.confidence:.2f})"


class CorrectionField(models.TextChoices):
    SERVICES = "services", "Services"
    COMPLAINT = "complaint", "Complaint"
    SENTIMENT = "sentiment", "Sentiment"
    SPAM = "spam", "Spam"


class Correction(models.Model):
    """An analyst's label for one field of one mention. The latest in force per (mention, field) wins, and
    `servicepulse train` learns from it. Putting a label back to the models' reading (`correction_revert`)
    keeps its corrections, marked with who put it back and when (`reverted_at`, `reverted_by`): they are
    then no longer in force, shown or trained on, but the trail of who changed what stays."""

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="corrections")
    field = models.CharField(max_length=20, choices=CorrectionField.choices)
    value = models.JSONField(help_text="true/false, a sentiment, or a list of service ids")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    reverted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the label was put back to the models' reading (else in force)"
    )
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who put the label back to the models' reading",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["mention", "field", "-created_at"], name="correction_latest")]

    def __str__(self) -> str:
        return f"{self.field}={self.value!r} on mention {self.mention_id}"
