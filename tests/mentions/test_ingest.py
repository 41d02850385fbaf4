"""`mentions_ingest` counts what the database holds after the write, never the attempts, and stores only
http(s) links whatever the connector passed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DataError, connection

from servicepulse.mentions.models import Mention
from servicepulse.mentions.services import MentionData, mentions_ingest
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

AT = datetime(2025, 3, 1, 10, tzinfo=UTC)


def test_a_row_the_database_drops_is_not_counted_as_created() -> None:
    """NaN is not JSON: SQLite's JSON CHECK refuses the row and INSERT OR IGNORE hides that; PostgreSQL says
    so. Either way no count claims a mention that is not there."""
    source = SourceFactory()
    items = [
        MentionData(external_id="n1", text="t", created_at=AT, raw={"score": float("nan")}),
        MentionData(external_id="ok", text="t", created_at=AT),
    ]
    if connection.vendor != "sqlite":
        with pytest.raises(DataError):
            mentions_ingest(source=source, items=items)
        assert not Mention.objects.exists()
        return

    first = mentions_ingest(source=source, items=items)
    second = mentions_ingest(source=source, items=items)

    assert list(Mention.objects.values_list("external_id", flat=True)) == ["ok"]
    assert (first.created, first.duplicates) == (1, 0)
    assert (second.created, second.duplicates) == (0, 1)
    assert first.mention_ids == [Mention.objects.get().pk]
    assert first.not_stored == second.not_stored == ["n1"]


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("javascript:alert(document.cookie)", ""),
        ("JAVASCRIPT:alert(1)", ""),
        ("data:text/html,<script>x</script>", ""),
        ("vbscript:msgbox", ""),
        ("https://forum.example.org/t/1", "https://forum.example.org/t/1"),
        ("http://example.org/", "http://example.org/"),
    ],
)
def test_only_http_links_are_stored_whichever_connector_sent_them(url: str, stored: str) -> None:
    mentions_ingest(
        source=SourceFactory(), items=[MentionData(external_id="1", text="t", created_at=AT, url=url)]
    )
    assert Mention.objects.get().url == stored
