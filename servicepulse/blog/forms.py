"""Forms for writing posts, commenting and moderating."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.core import signing

from servicepulse.blog.models import Post, PostStatus
from servicepulse.core.forms import LocalDateTimeField

FORM_TS_SALT = "servicepulse.blog.comment-form"


def form_timestamp() -> str:
    return signing.dumps(time.time(), salt=FORM_TS_SALT)


def elapsed_since(token: str) -> float | None:
    """Seconds since the form was rendered; None when the token is missing or forged (treated as a bot)."""
    try:
        started = float(signing.loads(token, salt=FORM_TS_SALT, max_age=7 * 24 * 3600))
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return time.time() - started


def comment_id_or_none(value: str | None) -> int | None:
    """The comment id a reply link or the form's hidden field carries, or None for anything else."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


class PostForm(forms.Form):
    ACTIONS = [("draft", "Save draft"), ("publish", "Publish now"), ("schedule", "Schedule")]

    title = forms.CharField(max_length=300)
    body_markdown = forms.CharField(
        label="Body (Markdown)", widget=forms.Textarea(attrs={"rows": 18}), required=False
    )
    excerpt = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    tags = forms.CharField(required=False, help_text="Comma-separated")
    comments_enabled = forms.BooleanField(required=False, initial=True, label="Allow comments")
    close_comments_after_days = forms.IntegerField(
        required=False, min_value=0, label="Close comments after (days)", help_text="Empty: the site default"
    )
    # Read on the organisation's clock (the input carries none), not the writer's: the label names the zone,
    # for a writer abroad. A time the clocks repeat is taken at its first occurrence (`time_notes` says so).
    publish_at = LocalDateTimeField(required=False, label="Publish at", help_text="For scheduling")
    action = forms.ChoiceField(choices=ACTIONS, initial="draft", widget=forms.RadioSelect)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # A time refused already (one the clocks skip) says why; "say when" would contradict it.
        if (
            data.get("action") == "schedule"
            and not data.get("publish_at")
            and "publish_at" not in self.errors
        ):
            self.add_error("publish_at", "Say when to publish.")
        return data

    @staticmethod
    def initial_action(post: Post) -> str:
        """The choice that keeps the post as it is, so saving an edit changes nothing else."""
        if post.status == PostStatus.SCHEDULED and post.publish_at is not None:
            return "schedule"
        return "publish" if post.is_published else "draft"

    @staticmethod
    def initial_for(post: Post) -> dict[str, Any]:
        return {
            "title": post.title,
            "body_markdown": post.body_markdown,
            "excerpt": post.excerpt,
            "tags": ", ".join(tag.name for tag in post.tags.all()),
            "comments_enabled": post.comments_enabled,
            "close_comments_after_days": post.close_comments_after_days,
            "publish_at": post.publish_at,
            "action": PostForm.initial_action(post),
        }

    def tag_names(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data.get("tags", "").split(",") if name.strip()]


# The comment box is as wide as the page (_blog_head.html's .blog-full), not 40 columns, narrower than a phone.
COMMENT_BOX = {"rows": 6, "class": "blog-full"}


class CommentForm(forms.Form):
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs=COMMENT_BOX), max_length=10000)
    # autocomplete lets a phone offer the commenter's own name and address instead of their typing them.
    author_name = forms.CharField(
        label="Name", max_length=200, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    author_email = forms.EmailField(
        label="E-mail (not published)",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    author_url = forms.URLField(
        label="Website",
        required=False,
        max_length=1000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"autocomplete": "url"}),
    )
    # Hidden and filled from the page's `?replytocom=` link: a value that is not a comment id (a mangled link)
    # makes a top-level comment rather than an error the reader cannot see or correct.
    parent = forms.CharField(required=False, widget=forms.HiddenInput)
    remember = forms.BooleanField(
        label="Save my name, e-mail and website in this browser for the next time I comment.", required=False
    )
    notify_replies = forms.BooleanField(
        label="E-mail me when someone replies (you will confirm first).", required=False
    )
    # A field people never see (hidden by CSS, skipped by screen readers); bots fill it in.
    website_confirm = forms.CharField(required=False, label="Leave this empty")
    ts = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, signed_in: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed_in = signed_in
        if signed_in:
            for name in ("author_name", "author_email", "author_url", "remember"):
                del self.fields[name]
        else:
            self.fields["author_name"].required = True
            self.fields["author_email"].required = True
        if not self.is_bound:
            self.initial.setdefault("ts", form_timestamp())
        # A re-shown form keeps its first timestamp: the fill time counts from the first render. One that is
        # missing, forged or past its age gets a new one, else a reader whose page stayed open for a week would
        # be told "That was quick" each time they sent it (a bot gains nothing: any page view gives a token).
        if self.is_bound:
            sent = str(self.data.get("ts") or "")
            self.ts_value = sent if elapsed_since(sent) is not None else form_timestamp()
        else:
            self.ts_value = self.initial["ts"]

    def clean_parent(self) -> int | None:
        return comment_id_or_none(self.cleaned_data.get("parent"))


class CommentEditForm(forms.Form):
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs=COMMENT_BOX), max_length=10000)


class WordListForm(forms.Form):
    moderation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), required=False, label="Hold for moderation (one per line)"
    )
    blocklist = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), required=False, label="Blocklist: spam (one per line)"
    )
