"""Recount the people affected by incidents whose attached posts analysts had already relabelled (spam, not a
complaint, another service) before such posts stopped counting: from now on relabelling recounts at once."""

from typing import Any

from django.db import migrations


def recount(apps: Any, schema_editor: Any) -> None:
    Incident = apps.get_model("incidents", "Incident")
    IncidentMention = apps.get_model("incidents", "IncidentMention")
    MentionAnalysis = apps.get_model("analysis", "MentionAnalysis")
    ServiceTag = apps.get_model("analysis", "ServiceTag")
    corrected = MentionAnalysis.objects.exclude(corrected=[]).values("pk")
    touched = Incident.objects.filter(attachments__mention_id__in=corrected).distinct()
    for incident in touched:
        still_complaints = ServiceTag.objects.filter(
            service_id=incident.service_id, complaint=True, spam=False
        ).values("analysis_id")
        away = (
            MentionAnalysis.objects.filter(mention__incident_attachments__incident=incident)
            .exclude(corrected=[])
            .exclude(pk__in=still_complaints)
            .values("pk")
        )
        count = (
            IncidentMention.objects.filter(incident=incident)
            .exclude(mention_id__in=away)
            .values("author_key")
            .distinct()
            .count()
        )
        if count != incident.affected_authors:
            Incident.objects.filter(pk=incident.pk).update(affected_authors=count)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0004_alert_rule_min_state_labels"),
        ("analysis", "0001_initial"),
    ]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop)]
