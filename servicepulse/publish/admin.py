from django.contrib import admin

from servicepulse.publish.models import Backfeed, CrossPost, CrossPostTarget, Digest, PostBack


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("week_start", "post_count", "generated_at", "emailed_at")


@admin.register(CrossPostTarget)
class CrossPostTargetAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("network", "source", "enabled", "mode")
    list_filter = ("network", "enabled", "mode")


@admin.register(CrossPost)
class CrossPostAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("post", "network", "source", "state", "sent_at", "remote_url", "likes", "reposts")
    list_filter = ("network", "state")
    # The state changes only through publish.crosspost.crosspost_transition (the preview page's buttons).
    readonly_fields = ("state", "remote_id", "remote_url", "sent_at", "attempts", "error")


@admin.register(Backfeed)
class BackfeedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("crosspost", "kind", "mention", "comment", "created_at")


@admin.register(PostBack)
class PostBackAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("comment", "state", "remote_url", "sent_at")
