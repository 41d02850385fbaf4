from django.contrib import admin

from servicepulse.engage.models import Case, CaseActivity, LoopReply, OptOut, Reply, SavedReply


class ActivityInline(admin.TabularInline):
    model = CaseActivity
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "actor", "from_state", "to_state", "text", "created_at")


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "mention", "service", "state", "assignee", "team", "opened_at", "first_response_at")
    list_filter = ("state", "service")
    readonly_fields = ("state",)  # changed only through case_transition
    raw_id_fields = ("mention",)
    inlines = [ActivityInline]


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "created_at")


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    list_display = ("id", "case", "outcome", "created_at")
    list_filter = ("outcome",)


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ("source", "author_key", "created_at")


@admin.register(LoopReply)
class LoopReplyAdmin(admin.ModelAdmin):
    list_display = ("public_incident", "incident_status", "person_key", "outcome", "sent_at")
    list_filter = ("outcome", "incident_status")
