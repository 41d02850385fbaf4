"""`sources add --audience peers --retention-days N`: a peer source feeds the digest; bad values are refused."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from servicepulse.sources.models import Audience, Source

pytestmark = pytest.mark.django_db


def test_add_peer_source_with_retention() -> None:
    call_command(
        "sources",
        "add",
        "rss",
        "--name",
        "peer blogs",
        "--option",
        "url=https://blog.example.ac.uk/feed",
        "--audience",
        "peers",
        "--retention-days",
        "90",
    )
    source = Source.objects.get(name="peer blogs")
    assert (source.audience, source.retention_days) == (Audience.PEERS, 90)
    call_command("sources", "add", "rss", "--name", "students", "--option", "url=https://example.org/feed")
    assert Source.objects.get(name="students").audience == Audience.USERS


def test_retention_must_be_positive() -> None:
    with pytest.raises(CommandError, match="between 1 and 36500 days"):
        call_command(
            "sources", "add", "rss", "--name", "x", "--option", "url=https://e.org/f", "--retention-days", "0"
        )
    assert not Source.objects.exists()
