from django.contrib import admin

from servicepulse.experience.models import Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("__str__", "service", "priority", "opened_at", "resolved_at", "origin")
    list_filter = ("priority", "service", "origin")
    search_fields = ("reference", "key")
    date_hierarchy = "opened_at"
