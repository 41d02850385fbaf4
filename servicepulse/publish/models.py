"""The learning digest (what peers and the industry discussed each week) and cross-posted copies of blog posts."""

from __future__ import annotations

from django.conf import settings
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


class CrossPostTarget(models.Model):
    """An account the leader enabled for cross-posting: a connected source that can post, or LinkedIn (no
    source: the organisation page configured in the environment)."""

    class Mode(models.TextChoices):
        REVIEW = "review", "Draft for review (send from the preview page)"
        AUTO = "auto", "Send when the post is published"

    network = models.CharField(max_length=20, help_text="A kind in publish.networks.NETWORKS")
    source = models.OneToOneField(
        "sources.Source", null=True, blank=True, on_delete=models.CASCADE, related_name="crosspost_target"
    )
    enabled = models.BooleanField(default=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.REVIEW)
    options = models.JSONField(
        default=dict, blank=True, help_text='Network options, e.g. {"subreddit": "northfield"} for Reddit'
    )

    class Meta:
        ordering = ["network", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["network"],
                condition=models.Q(source__isnull=True),
                name="publish_target_one_sourceless",
            )
        ]

    def __str__(self) -> str:
        return f"{self.network}: {self.source or 'organisation'}"


class CrossPostState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    DELETED = "deleted", "Deleted"


class CrossPost(models.Model):
    """One copy of a blog post on one account. Its state changes only through `crosspost.crosspost_transition`.

    `post` becomes null when the blog post is deleted: the row stays so the remote copy can be deleted too."""

    post = models.ForeignKey(
        "blog.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="crossposts"
    )
    target = models.ForeignKey(
        CrossPostTarget, null=True, on_delete=models.SET_NULL, related_name="crossposts"
    )
    source = models.ForeignKey(
        "sources.Source", null=True, blank=True, on_delete=models.SET_NULL, related_name="crossposts"
    )
    network = models.CharField(max_length=20)
    text = models.TextField(help_text="What is posted (the leader may edit it before sending)")
    text_edited = models.BooleanField(default=False, help_text="Edited by hand: blog edits do not redraft it")
    state = models.CharField(
        max_length=20, choices=CrossPostState.choices, default=CrossPostState.DRAFT, db_index=True
    )
    send_at = models.DateTimeField(null=True, blank=True, help_text="Scheduled: when to send")
    remote_id = models.CharField(max_length=300, blank=True, default="", db_index=True)
    remote_url = models.URLField(max_length=1000, blank=True, default="")
    remote_extra = models.JSONField(default=dict, blank=True, help_text="e.g. a Bluesky post's cid")
    sent_text = models.TextField(blank=True, default="", help_text="The text as the network has it now")
    error = models.TextField(blank=True, default="", help_text="The network's last refusal")
    note = models.TextField(blank=True, default="", help_text="What the network could not do (edit, delete)")
    attempts = models.PositiveIntegerField(default=0)
    redrafts = models.PositiveIntegerField(
        default=0,
        help_text="Times drafted anew after the post was published again: each sending has its own "
        "idempotency key",
    )
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="Being sent by a worker: no other sends it before then"
    )
    first_tried_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When this sending was first tried (the time in its Bluesky record key); empty until then",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_remote_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    likes = models.PositiveIntegerField(default=0)
    reposts = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(default=0)
    counts_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["network", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "target"],
                condition=models.Q(post__isnull=False),
                name="publish_one_copy_per_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.network} copy of {self.post_id} ({self.state})"


class BackfeedKind(models.TextChoices):
    REPLY = "reply", "Reply"
    QUOTE = "quote", "Quote"


class Backfeed(models.Model):
    """A reply or quote of a copy, fetched through the connector as a mention and kept as a blog comment."""

    crosspost = models.ForeignKey(CrossPost, on_delete=models.CASCADE, related_name="backfeeds")
    mention = models.OneToOneField(
        "mentions.Mention",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="backfeed",
        help_text="The reply as fetched (empty only for the demo's replies, which are not listening data)",
    )
    comment = models.OneToOneField(
        "blog.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="backfeed"
    )
    kind = models.CharField(max_length=10, choices=BackfeedKind.choices, default=BackfeedKind.REPLY)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.mention_id} -> comment {self.comment_id}"


class BackfeedCursor(models.Model):
    """The last mention of a source looked at for replies and quotes of copies."""

    source = models.OneToOneField("sources.Source", on_delete=models.CASCADE, related_name="backfeed_cursor")
    last_mention_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"backfeed cursor of source {self.source_id} at mention {self.last_mention_id}"


class PostBackState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class PostBack(models.Model):
    """A reply written on the blog to a backfed comment, posted back to the network through the connector."""

    comment = models.OneToOneField("blog.Comment", on_delete=models.CASCADE, related_name="postback")
    backfeed = models.ForeignKey(Backfeed, on_delete=models.CASCADE, related_name="postbacks")
    state = models.CharField(max_length=10, choices=PostBackState.choices, default=PostBackState.QUEUED)
    remote_id = models.CharField(max_length=300, blank=True, default="")
    remote_url = models.URLField(max_length=1000, blank=True, default="")
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    first_tried_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was first tried (the time in its Bluesky record key)"
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"post-back of comment {self.comment_id} ({self.state})"


class DigestFeedKey(models.Model):
    """Which of a person's private digest feed links works: the link signs their id and this generation, so
    making a new link (a leaked one, a feed reader given up) stops every earlier one. No row: generation 0."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_feed_key"
    )
    generation = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"digest feed link {self.generation} of user {self.user_id}"
