"""Existing deliveries: each keyed on the state change it announced (the incident's latest activity row that
put it in that state before the delivery was queued), and those given up because their rule was disabled or
a newer state change superseded them marked "cancelled" instead of "failed". A separate migration from the
schema change: PostgreSQL refuses to alter a table with pending deferred-constraint checks."""

from typing import Any

from django.db import migrations

STATE_SETTING = ("created", "state_changed")


def backfill(apps: Any, schema_editor: Any) -> None:
    AlertDelivery = apps.get_model("incidents", "AlertDelivery")
    IncidentActivity = apps.get_model("incidents", "IncidentActivity")
    for delivery in AlertDelivery.objects.filter(activity__isnull=True).iterator():
        changes = IncidentActivity.objects.filter(
            incident_id=delivery.incident_id, type__in=STATE_SETTING, state=delivery.incident_state
        ).order_by("-created_at", "-pk")
        activity = changes.filter(created_at__lte=delivery.created_at).first() or changes.first()
        if activity is not None:
            AlertDelivery.objects.filter(pk=delivery.pk).update(activity=activity)
    for delivery in AlertDelivery.objects.filter(status="failed").iterator():
        if delivery.log and delivery.log[-1].get("outcome") == "cancelled":
            AlertDelivery.objects.filter(pk=delivery.pk).update(status="cancelled", last_error="")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_alert_per_state_change_and_cancelled"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
