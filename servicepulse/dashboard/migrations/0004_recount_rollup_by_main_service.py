"""The daily rollup now counts each post once, for the service it is most about (as the weekly report does).
Days counted the old way (once per tag) are recounted: forgetting how far the rollup is complete makes the
next board view or the periodic task rebuild the history window."""

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("dashboard", "RollupState").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0003_mention_search_trigram_upper")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
