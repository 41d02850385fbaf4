from django.contrib import admin

from servicepulse.status.models import IncidentUpdate, Maintenance, Notification, PublicIncident, Subscription


class UpdateInline(admin.TabularInline):
    model = IncidentUpdate
    extra = 0
    readonly_fields = ("status", "body", "created_at", "created_by")
    can_delete = False


@admin.register(PublicIncident)
class PublicIncidentAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "impact", "started_at", "resolved_at")
    list_filter = ("status", "impact")
    readonly_fields = ("status", "resolved_at")  # changed only through public_incident_update
    inlines = [UpdateInline]


@admin.register(Maintenance)
class MaintenanceAdmin(admin.ModelAdmin):
    list_display = ("title", "starts_at", "ends_at", "cancelled_at")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("email", "service", "confirmed_at", "unsubscribed_at")
    search_fields = ("email",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("email", "key", "sent_at")
