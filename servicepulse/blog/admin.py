from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from servicepulse.blog.markup import render_markdown
from servicepulse.blog.models import (
    Comment,
    ModerationDecision,
    Post,
    ReplySubscription,
    SentLinkback,
    Tag,
    WebmentionRequest,
    WordListEntry,
)


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "published_at", "publish_at", "author"]
    list_filter = ["status", "tags"]
    search_fields = ["title", "body_markdown"]
    readonly_fields = ["body_html"]

    def save_model(self, request: HttpRequest, obj: Post, form: Any, change: bool) -> None:
        # Readers see `body_html`: Markdown changed here is rendered (and sanitised) as the writing page does,
        # else the post kept showing its old text.
        obj.body_html = render_markdown(obj.body_markdown)
        super().save_model(request, obj, form, change)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["author_name", "kind", "status", "post", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["author_name", "author_email", "body", "source_url"]
    raw_id_fields = ["post", "parent", "user"]


@admin.register(ModerationDecision)
class ModerationDecisionAdmin(admin.ModelAdmin):
    list_display = ["decision", "is_spam", "author_name", "decided_by", "decided_at"]
    list_filter = ["decision", "is_spam"]


admin.site.register(Tag)
admin.site.register(ReplySubscription)
admin.site.register(WordListEntry)
admin.site.register(WebmentionRequest)
admin.site.register(SentLinkback)
