"""Source options are checked when a source is created or its options change (type, range, choices, URLs by
the fetcher's rules, combinations each connector needs), so nothing stored can only fail later."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from servicepulse.sources.connectors.bluesky.client import subscribe_url
from servicepulse.sources.models import Source
from servicepulse.sources.services import SourceConfigError, source_create, source_update

pytestmark = pytest.mark.django_db


def test_well_formed_options_are_kept_as_given() -> None:
    source = source_create(
        kind="mastodon",
        name="masto",
        options={
            "api_base_url": "https://mastodon.example",
            "hashtags": "vle",
            "streaming": "yes",
            "streaming_url": "https://streaming.mastodon.example",
            "poll_seconds": "600",
            "reply_visibility": "private",
        },
    )
    assert source.options["poll_seconds"] == "600" and source.options["streaming"] == "yes"
    bluesky = source_create(
        kind="bluesky",
        name="sky",
        options={"keywords": "moodle", "jetstream_url": "https://jetstream.example/subscribe"},
    )
    assert bluesky.options["jetstream_url"] == "https://jetstream.example/subscribe"
    # Given as http(s) for the same host, the Jetstream address is opened as a WebSocket.
    assert subscribe_url(bluesky.options["jetstream_url"], cursor=None).startswith("wss://jetstream.example/")


def test_changed_options_are_checked_too() -> None:
    source = source_create(
        kind="mastodon", name="masto", options={"api_base_url": "https://mastodon.example", "hashtags": "vle"}
    )
    with pytest.raises(SourceConfigError, match="option reply_visibility: must be one of public, unlisted"):
        source_update(source=source, options={**source.options, "reply_visibility": "everyone"})
    source.refresh_from_db()
    assert source.options["reply_visibility"] == "unlisted"


def test_the_add_form_shows_the_problem(users: dict[str, Any]) -> None:
    admin = Client()
    admin.force_login(users["admin"])
    response = admin.post(
        "/sources/add/",
        {
            "name": "m_poll",
            "kind": "mastodon",
            "option_api_base_url": "https://m.example",
            "option_hashtags": "uni",
            "option_poll_seconds": "abc",
        },
    )
    assert response.status_code == 200
    assert (
        "mastodon option poll_seconds: must be a whole number, not &#x27;abc&#x27;"
        in response.content.decode()
    )
    assert not Source.objects.exists()


def test_every_bad_value_is_named_at_once() -> None:
    from servicepulse.sources.services import source_validate_options

    options = {
        "api_base_url": "https://m.example",
        "hashtags": "uni",
        "streaming": "maybe",
        "poll_seconds": "abc",
    }
    with pytest.raises(SourceConfigError) as refused:
        source_validate_options(kind="mastodon", options=options)
    message = str(refused.value)
    assert "option streaming:" in message and "option poll_seconds:" in message  # only the first was named


def test_a_name_taken_between_the_check_and_the_save_is_refused_not_a_500() -> None:
    """Two admins adding the same name at once: the other one's row lands after this one's check passed."""
    from django.db.models.signals import pre_save

    def the_other_admin(sender: Any, instance: Source, **kwargs: Any) -> None:
        pre_save.disconnect(the_other_admin, sender=Source)
        Source.objects.create(kind="rss", name=instance.name, options={"url": "https://a.example/feed"})

    pre_save.connect(the_other_admin, sender=Source)
    try:
        with pytest.raises(SourceConfigError, match="a source named 'news' already exists"):
            source_create(kind="rss", name="news", options={"url": "https://b.example/feed"})
    finally:
        pre_save.disconnect(the_other_admin, sender=Source)
    source_create(kind="rss", name="news 2", options={"url": "https://b.example/feed"})  # still usable
