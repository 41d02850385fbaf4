"""Fixtures for the signed-in pages: a small demo-like world (services, sources, posts), signed-in clients."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.catalog.services import catalog_load
from servicepulse.demo.catalog import DEMO_CATALOG
from tests.factories import MentionFactory, SourceFactory


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    """The demo catalogue, two sources and a few days of posts."""
    services = catalog_load(data=DEMO_CATALOG)
    reddit = SourceFactory(name="r/northgate", kind="reddit")
    widget = SourceFactory(name="widget", kind="widget")
    now = timezone.now()
    texts = [
        "moodle is down again and my essay is due at midnight",
        "eduroam keeps dropping in the library",
        "thanks to the service desk for sorting my password so quickly",
        "outlook won't load my inbox",
        "BUY CHEAP FOLLOWERS NOW",
    ]
    mentions = [
        MentionFactory(
            source=reddit if i % 2 else widget,
            text=texts[i % len(texts)],
            created_at=now - timedelta(hours=i),
        )
        for i in range(30)
    ]
    return {"services": services, "sources": [reddit, widget], "mentions": mentions}


@pytest.fixture
def clients(users: dict[str, Any]) -> dict[str, Client]:
    """A Django test client per role, already signed in, plus an anonymous one."""
    result = {"anonymous": Client()}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        result[role] = client
    return result
