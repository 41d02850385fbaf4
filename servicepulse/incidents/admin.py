from django.contrib import admin
from django.http import HttpRequest

from servicepulse.incidents.models import AlertDelivery, AlertRule, Incident, IncidentActivity


class ActivityInline(admin.TabularInline):
    model = IncidentActivity
    extra = 0
    readonly_fields = ("type", "previous_state", "state", "comment", "user", "at")
    can_delete = False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("title", "service", "kind", "state", "started_at", "affected_authors")
    list_filter = ("state", "kind", "service")
    # State changes go through services.incident_update_status, so the admin shows it read-only.
    readonly_fields = ("state", "confirmed_at", "resolved_at", "affected_authors", "peak_score")
    inlines = [ActivityInline]


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """Read-only here: rules are written on /alerts/, where each target is checked (a rule saved here would
    skip those checks)."""

    list_display = ("name", "channel", "min_state", "enabled")
    exclude = ("secrets_encrypted", "target")  # a webhook address is a secret: shown shortened
    readonly_fields = ("target_shown",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AlertRule | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AlertRule | None = None) -> bool:
        return False


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = ("rule", "incident", "incident_state", "status", "attempts", "sent_at")
    list_filter = ("status",)
