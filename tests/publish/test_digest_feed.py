"""The digest's Atom feed links to servicepulse at SERVICEPULSE_BASE_URL, like the status feed."""

from __future__ import annotations

from datetime import date
from typing import Any
from xml.etree import ElementTree

import pytest
from django.core import signing
from django.test import Client

from servicepulse.publish.feeds import FEED_SALT
from servicepulse.publish.services import digest_build

pytestmark = pytest.mark.django_db
ATOM = {"a": "http://www.w3.org/2005/Atom"}


def test_feed_links_use_the_base_url(users: dict[str, Any], settings: Any) -> None:
    settings.BASE_URL = "https://pulse.northgate.example"
    digest_build(week_start=date(2026, 11, 16))
    token = signing.dumps(users["viewer"].pk, salt=FEED_SALT)
    feed = Client().get(f"/publish/digest/feed/?token={token}")
    assert feed.status_code == 200
    root = ElementTree.fromstring(feed.content)
    links = {link.get("rel"): link.get("href") for link in root.findall("a:link", ATOM)}
    assert links == {
        "alternate": "https://pulse.northgate.example/publish/digest/",
        "self": "https://pulse.northgate.example/publish/digest/feed/",
    }
    assert root.findtext("a:id", namespaces=ATOM) == "https://pulse.northgate.example/publish/digest/"
    entry = root.find("a:entry", ATOM)
    assert entry is not None
    assert (
        entry.find("a:link", ATOM).get("href") == "https://pulse.northgate.example/publish/digest/2026-11-16/"
    )  # type: ignore[union-attr]
    assert (
        entry.findtext("a:id", namespaces=ATOM)
        == "https://pulse.northgate.example/publish/digest/2026-11-16/"
    )
    assert "example.com" not in feed.content.decode()
