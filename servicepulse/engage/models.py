"""The team inbox (cases, activity, notes, saved replies, replies) and the closed loop's reply log."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from servicepulse.catalog.models import Service
from servicepulse.mentions.models import Mention
from servicepulse.sources.models import Source
from servicepulse.status.models import IncidentStatus, PublicIncident


class CaseState(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    WAITING = "waiting", "Waiting"
    REPLIED = "replied", "Replied"
    CLOSED = "closed", "Closed"


class Case(models.Model):
    """One conversation to handle: a mention that wants a response. `state` changes only in `case_transition`.

    The response clock starts when the person posted (`opened_at` = the mention's `created_at`).
    """

    mention = models.OneToOneField(Mention, on_delete=models.CASCADE, related_name="case")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    state = models.CharField(max_length=20, choices=CaseState.choices, default=CaseState.NEW, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    team = models.CharField(max_length=200, blank=True, default="", help_text="A team from the catalogue")
    public_incident = models.ForeignKey(
        PublicIncident, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    opened_at = models.DateTimeField(db_index=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["state", "-opened_at"], name="case_state_opened")]

    def __str__(self) -> str:
        return f"case {self.pk} ({self.state}) for mention {self.mention_id}"


class ActivityKind(models.TextChoices):
    STATE = "state", "State changed"
    ASSIGN = "assign", "Assigned"
    NOTE = "note", "Internal note"
    REPLY = "reply", "Replied"
    REPLY_FAILED = "reply_failed", "Reply failed"
    OPT_OUT = "opt_out", "Opted out"


class CaseActivity(models.Model):
    """What happened to a case, by whom, when. Notes are activities of kind `note` (never sent out)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    from_state = models.CharField(max_length=20, choices=CaseState.choices, blank=True, default="")
    to_state = models.CharField(max_length=20, choices=CaseState.choices, blank=True, default="")
    text = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "case activities"

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"


class SavedReply(models.Model):
    """A reusable answer. Placeholders: {author}, {service}, {status_url}."""

    title = models.CharField(max_length=120, unique=True)
    body = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "saved replies"

    def __str__(self) -> str:
        return self.title


class ReplyOutcome(models.TextChoices):
    PENDING = "pending", "Waiting to send"
    SENDING = "sending", "Sending (outcome unknown if it stays here)"
    SENT = "sent", "Sent"
    RECORDED = "recorded", "Answered outside servicepulse"
    FAILED = "failed", "Failed"
    CANNOT_REPLY = "cannot_reply", "Channel cannot reply"
    OPTED_OUT = "opted_out", "Opted out"


class Reply(models.Model):
    """One answer sent (or attempted) from the inbox through the mention's connector."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="replies")
    text = models.TextField()
    outcome = models.CharField(max_length=20, choices=ReplyOutcome.choices)
    external_id = models.CharField(max_length=255, blank=True, default="")
    url = models.URLField(max_length=1000, blank=True, default="")
    error = models.TextField(blank=True, default="")
    # The platform did not answer in time: the reply may have been posted. The same text sent again soon after
    # (`engage.services.REPLY_RESEND_WINDOW`) is the same reply on the platform (`resend_of`, its `SendKey`).
    outcome_unknown = models.BooleanField(default=False)
    resend_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The first try of this reply, when it is sent again after no answer",
    )
    first_tried_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was first tried (the time in its Bluesky record key)"
    )
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "replies"

    def __str__(self) -> str:
        return f"reply {self.pk} ({self.outcome})"


class OptOut(models.Model):
    """A person who asked not to be contacted on a source; the closed loop lists them instead of replying."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="reply_optouts")
    author_key = models.CharField(max_length=255, help_text="The platform id where known, else the name")
    reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "author_key"], name="optout_unique_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.author_key}"


class LoopReply(models.Model):
    """The closed loop's log: one row per person per public-incident status, whatever the outcome.

    The unique constraint is what makes "once per person per state" hold under retries and double clicks.
    """

    public_incident = models.ForeignKey(PublicIncident, on_delete=models.CASCADE, related_name="loop_replies")
    incident_status = models.CharField(max_length=20, choices=IncidentStatus.choices)
    person_key = models.CharField(max_length=300, help_text="<source id>:<author id or name>")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="loop_replies")
    text = models.TextField()
    outcome = models.CharField(max_length=20, choices=ReplyOutcome.choices, default=ReplyOutcome.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    first_tried_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was first tried (the time in its Bluesky record key)"
    )
    external_id = models.CharField(max_length=255, blank=True, default="")
    url = models.URLField(max_length=1000, blank=True, default="")
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["public_incident", "incident_status", "person_key"],
                name="loop_reply_once_per_person_state",
            )
        ]
        verbose_name_plural = "loop replies"

    def __str__(self) -> str:
        return f"{self.person_key} [{self.incident_status}] {self.outcome}"
