"""Trigram indexes for the mentions explorer's search (PostgreSQL only; SQLite searches by scanning).

The explorer searches mention text and author with case-insensitive substring matches (ILIKE '%word%'); a
pg_trgm GIN index answers those without reading every post, which is what keeps a search over a million
mentions interactive. The index lives on the mentions table but serves only this page, so it is created here.
"""

from django.db import migrations

INDEXES = {
    "dashboard_mention_text_trgm": "text",
    "dashboard_mention_author_trgm": "author",
}


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON mentions_mention USING gin ({column} gin_trgm_ops)"
        )


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_initial"),
        ("mentions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
