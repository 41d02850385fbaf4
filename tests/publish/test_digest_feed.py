"""The digest's Atom feed links to servicepulse at SERVICEPULSE_BASE_URL, like the status feed."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client

from servicepulse.publish.selectors import digest_feed_token
from servicepulse.publish.services import digest_build

pytestmark = pytest.mark.django_db
ATOM = {"a": "http://www.w3.org/2005/Atom"}


def test_feed_links_use_the_base_url(users: dict[str, Any], settings: Any) -> None:
    settings.BASE_URL = "https://pulse.northgate.example"
    digest_build(week_start=date(2026, 11, 16))
    token = digest_feed_token(user_id=users["viewer"].pk)
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


def test_a_new_feed_link_stops_the_earlier_ones_and_no_one_elses(
    users: dict[str, Any], client: Client
) -> None:
    """A private link that leaked (pasted into a chat, a feed reader given up) can be stopped without taking the
    person's access away: a new link is made on the digest page and every earlier one answers 403."""
    from django.core import signing

    from servicepulse.publish.selectors import FEED_SALT

    digest_build(week_start=date(2026, 11, 16))
    viewer, admin = users["viewer"], users["admin"]
    first_days = signing.dumps(viewer.pk, salt=FEED_SALT)  # the id alone: links made before generations
    others = digest_feed_token(user_id=admin.pk)
    assert Client().get(f"/publish/digest/feed/?token={first_days}").status_code == 200

    def shown_token(page: str) -> str:
        # The link as the page shows it (a signed token carries the second it was made: read it, not remade).
        found = re.search(r'href="[^"]*/publish/digest/feed/\?token=([^"&]+)"', page)
        assert found is not None, "the digest page shows no feed link"
        return found.group(1)

    client.force_login(viewer)
    page = client.get("/publish/digest/").content.decode()
    old = shown_token(page)
    assert "Make a new feed link" in page
    assert Client().get(f"/publish/digest/feed/?token={old}").status_code == 200
    assert client.get("/publish/digest/feed/new/").status_code == 405  # only a POST makes one
    done = client.post("/publish/digest/feed/new/", follow=True).content.decode()
    assert "Your digest feed has a new link" in done
    new = shown_token(done)
    assert new != old

    for stopped in (old, first_days):
        refused = Client().get(f"/publish/digest/feed/?token={stopped}")
        assert refused.status_code == 403
    assert Client().get(f"/publish/digest/feed/?token={new}").status_code == 200
    assert Client().get(f"/publish/digest/feed/?token={others}").status_code == 200  # the admin's still works

    client.post("/publish/digest/feed/new/")
    assert Client().get(f"/publish/digest/feed/?token={new}").status_code == 403  # and again
    assert Client().post("/publish/digest/feed/new/").status_code == 302  # signed out: to the sign-in page
