"""The explorer's search is Django's `icontains`, which PostgreSQL runs as UPPER(column) LIKE UPPER(pattern):
the trigram indexes must be on UPPER(text) and UPPER(author) to be used (0002 indexed the bare columns)."""

from django.db import migrations

OLD = ("dashboard_mention_text_trgm", "dashboard_mention_author_trgm")
NEW = {
    "dashboard_mention_text_upper_trgm": "text",
    "dashboard_mention_author_upper_trgm": "author",
}


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name in OLD:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for name, column in NEW.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON mentions_mention USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in NEW:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0002_mention_search_trigram")]

    operations = [migrations.RunPython(forwards, backwards)]
