"""Alert deliveries are keyed on the state change they announce (its activity row), not on the state: a
reopened incident's second "confirmed" and second "resolved" are alerted too. A delivery with no activity row
(none recorded) is still deduplicated per state. A "cancelled" status for deliveries rightly not sent (their
rule disabled, or superseded by a newer state change), which were shown as "failed"."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0005_recount_relabelled_attachments"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="alertdelivery",
            name="alert_once_per_state_change",
        ),
        migrations.AddField(
            model_name="alertdelivery",
            name="activity",
            field=models.ForeignKey(
                blank=True,
                help_text="The state change (created or state changed) this alert announces",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="incidents.incidentactivity",
            ),
        ),
        migrations.AlterField(
            model_name="alertdelivery",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sent", "Sent"),
                    ("held", "Held for quiet hours"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="alertdelivery",
            constraint=models.UniqueConstraint(
                fields=("rule", "activity"), name="alert_once_per_state_change"
            ),
        ),
        migrations.AddConstraint(
            model_name="alertdelivery",
            constraint=models.UniqueConstraint(
                condition=models.Q(("activity__isnull", True)),
                fields=("rule", "incident", "incident_state"),
                name="alert_once_per_state_unrecorded",
            ),
        ),
    ]
