"""The leader's blog: posts, tags, comments (and received linkbacks, which are comments of another kind),
moderators' decisions, reply subscriptions, moderation word lists and sent linkbacks."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class PostStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("blog:tag", kwargs={"slug": self.slug})


class Post(models.Model):
    """A blog post. Markdown is the source; `body_html` is its sanitised rendering, kept in step on save."""

    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=200, unique=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="blog_posts"
    )
    body_markdown = models.TextField(blank=True, default="")
    body_html = models.TextField(blank=True, default="", editable=False)
    excerpt = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=20, choices=PostStatus.choices, default=PostStatus.DRAFT, db_index=True
    )
    publish_at = models.DateTimeField(null=True, blank=True, help_text="When a scheduled post goes live")
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    comments_enabled = models.BooleanField(default=True)
    pings_enabled = models.BooleanField(
        default=True, help_text="Accept Pingbacks, Trackbacks and Webmentions"
    )
    close_comments_after_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Close comments this many days after publishing (empty: site default)",
    )
    import_key = models.CharField(max_length=300, blank=True, default="", help_text="Origin id of an import")

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["import_key"], condition=~Q(import_key=""), name="blog_post_unique_import_key"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("blog:post", kwargs={"slug": self.slug})

    @property
    def is_published(self) -> bool:
        return self.status == PostStatus.PUBLISHED and self.published_at is not None

    def comments_close_at(self, default_days: int) -> datetime | None:
        days = self.close_comments_after_days if self.close_comments_after_days is not None else default_days
        if not days or self.published_at is None:
            return None
        return self.published_at + timedelta(days=days)


class CommentKind(models.TextChoices):
    COMMENT = "comment", "Comment"
    PINGBACK = "pingback", "Pingback"
    TRACKBACK = "trackback", "Trackback"
    WEBMENTION = "webmention", "Webmention"


class CommentStatus(models.TextChoices):
    PENDING = "pending", "Held for moderation"
    APPROVED = "approved", "Approved"
    SPAM = "spam", "Spam"
    TRASH = "trash", "Trash"


class Comment(models.Model):
    """A comment on a post, or a received linkback (Pingback, Trackback, Webmention), moderated alike."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    depth = models.PositiveSmallIntegerField(default=1, help_text="1 for a comment on the post itself")
    kind = models.CharField(max_length=20, choices=CommentKind.choices, default=CommentKind.COMMENT)
    status = models.CharField(
        max_length=20, choices=CommentStatus.choices, default=CommentStatus.PENDING, db_index=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="blog_comments",
    )
    author_name = models.CharField(max_length=200)
    author_email = models.EmailField(blank=True, default="")
    author_url = models.URLField(max_length=1000, blank=True, default="")
    body = models.TextField(help_text="As written (Markdown) or, for linkbacks, the excerpt as plain text")
    body_html = models.TextField(blank=True, default="", editable=False)
    source_url = models.URLField(
        max_length=1000, blank=True, default="", help_text="Linkbacks: the citing page"
    )
    title = models.CharField(max_length=300, blank=True, default="", help_text="Linkbacks: the citing title")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True, default="")
    hold_reasons = models.JSONField(default=list, blank=True, help_text="Why the filters held or caught it")
    spam_score = models.FloatField(null=True, blank=True, help_text="The spam classifier's probability")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    import_key = models.CharField(max_length=300, blank=True, default="")
    mention_synced = models.BooleanField(default=False, help_text="Sent to mentions (staff voice)")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["import_key"], condition=~Q(import_key=""), name="blog_comment_unique_import_key"
            ),
            models.UniqueConstraint(
                fields=["post", "kind", "source_url"],
                condition=~Q(source_url=""),
                name="blog_linkback_unique_per_source",
            ),
        ]
        indexes = [models.Index(fields=["post", "status", "created_at"], name="blog_comment_post_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.author_name} on {self.post}"

    def get_absolute_url(self) -> str:
        return f"{self.post.get_absolute_url()}#comment-{self.pk}"

    @property
    def is_linkback(self) -> bool:
        return self.kind != CommentKind.COMMENT


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved (not spam)"
    SPAM = "spam", "Spam"
    TRASH = "trash", "Trash"
    PENDING = "pending", "Back to the queue"


class ModerationDecision(models.Model):
    """Every moderator decision, with a copy of what was judged, so the spam head can be retrained on it
    (`servicepulse train` reads `is_spam` for decisions APPROVED and SPAM; the copy survives the comment)."""

    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    is_spam = models.BooleanField(help_text="True when the moderator marked it spam")
    previous_status = models.CharField(max_length=20, choices=CommentStatus.choices)
    kind = models.CharField(max_length=20, choices=CommentKind.choices)
    text = models.TextField()
    author_name = models.CharField(max_length=200, blank=True, default="")
    author_email = models.EmailField(blank=True, default="")
    author_url = models.URLField(max_length=1000, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    filter_reasons = models.JSONField(default=list, blank=True, help_text="What the filters had said")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.decision} {self.comment_id}"


class ReplySubscription(models.Model):
    """A commenter's wish to hear of replies to their comment: double opt-in, one-click unsubscribe."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="subscriptions")
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "email"], name="blog_subscription_unique")]

    def __str__(self) -> str:
        return f"{self.email} on comment {self.comment_id}"

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class WordListKind(models.TextChoices):
    MODERATION = "moderation", "Hold for moderation"
    BLOCKLIST = "blocklist", "Block (spam)"


class WordListEntry(models.Model):
    """WordPress's "Comment Moderation" and "Disallowed Comment Keys": a word, phrase, address or IP,
    matched inside the name, e-mail, URL, text, IP and browser of a comment."""

    kind = models.CharField(max_length=20, choices=WordListKind.choices)
    term = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "term"], name="blog_wordlist_unique")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.term}"


class LinkbackProtocol(models.TextChoices):
    WEBMENTION = "webmention", "Webmention"
    PINGBACK = "pingback", "Pingback"
    NONE = "none", "No endpoint"


class WebmentionRequest(models.Model):
    """A received Webmention waiting for (or done with) its asynchronous verification."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        ACCEPTED = "accepted", "Accepted"
        REMOVED = "removed", "Removed (source gone or no longer links)"
        REJECTED = "rejected", "Rejected (no link)"
        FAILED = "failed", "Failed (source unreachable)"

    source = models.URLField(max_length=1000)
    target = models.URLField(max_length=1000)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="webmention_requests")
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    detail = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.state})"


class SentLinkback(models.Model):
    """A page we notified (or found no endpoint on), so updates also reach pages a post stopped linking."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="sent_linkbacks")
    target = models.URLField(max_length=1000)
    protocol = models.CharField(max_length=20, choices=LinkbackProtocol.choices)
    endpoint = models.URLField(max_length=1000, blank=True, default="")
    result = models.CharField(max_length=500, blank=True, default="")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "target"], name="blog_sent_linkback_unique")]

    def __str__(self) -> str:
        return f"{self.post_id} -> {self.target} ({self.protocol})"
