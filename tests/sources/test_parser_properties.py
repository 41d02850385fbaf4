"""Property tests: whatever a platform sends, a connector's parser returns a mention or raises its parse error
(PayloadError, or Skip for valid non-mentions) — never anything else, so a bad payload is quarantined and the
rest of the batch is kept."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicepulse.sources.connectors.bluesky.parse import Skip as BlueskySkip
from servicepulse.sources.connectors.bluesky.parse import parse_event
from servicepulse.sources.connectors.bluesky.prefilter import Prefilter
from servicepulse.sources.connectors.mastodon.parse import Skip as MastodonSkip
from servicepulse.sources.connectors.mastodon.parse import (
    parse_notification,
    parse_status,
    parse_stream_message,
)
from servicepulse.sources.connectors.reddit.parse import parse_thing
from servicepulse.sources.connectors.rss.parse import parse_feed
from servicepulse.sources.registry import PayloadError

CONNECTORS = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def mutate(base: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """The real payload with a few fields (nested too) replaced by arbitrary JSON or removed."""
    result = json.loads(json.dumps(base))
    for _ in range(data.draw(st.integers(1, 3))):
        target = result
        while isinstance(target, dict) and target and data.draw(st.booleans()):
            key = data.draw(st.sampled_from(sorted(target)))
            if not isinstance(target[key], dict):
                break
            target = target[key]
        if isinstance(target, dict) and target:
            key = data.draw(st.sampled_from(sorted(target)))
            if data.draw(st.booleans()):
                del target[key]
            else:
                target[key] = data.draw(JSON)
    return result


STATUS = json.loads((CONNECTORS / "mastodon/fixtures/timeline_tag_vle.json").read_text())[0]
NOTIFICATION = json.loads((CONNECTORS / "mastodon/fixtures/notifications_mention.json").read_text())[0]
EVENTS = [
    json.loads(line)
    for line in (CONNECTORS / "bluesky/fixtures/jetstream_events.jsonl").read_text().splitlines()[:9]
]
THING = json.loads((CONNECTORS / "reddit/fixtures/subreddit_comments.json").read_text())["data"]["children"][
    0
]["data"]


@FAST
@given(st.data())
def test_mastodon_status(data: st.DataObject) -> None:
    for parser, base in ((parse_status, STATUS), (parse_notification, NOTIFICATION)):
        with contextlib.suppress(PayloadError, MastodonSkip):
            parser(mutate(base, data))


@FAST
@given(JSON)
def test_mastodon_anything(value: Any) -> None:
    for call in (lambda: parse_status(value), lambda: parse_notification(value)):
        with contextlib.suppress(PayloadError, MastodonSkip):
            call()
    with contextlib.suppress(PayloadError):
        parse_stream_message(json.dumps(value))


@FAST
@given(st.data())
def test_jetstream_event(data: st.DataObject) -> None:
    event = mutate(data.draw(st.sampled_from(EVENTS)), data)
    prefilter = Prefilter(keywords=["moodle"], hashtags=["vle"], account_did="did:plc:x")
    try:
        mention = parse_event(event)
    except (PayloadError, BlueskySkip):
        return
    prefilter.matches(mention.text, event["commit"]["record"])


@FAST
@given(JSON)
def test_jetstream_anything(value: Any) -> None:
    with contextlib.suppress(PayloadError, BlueskySkip):
        parse_event(value)
    if isinstance(value, dict):
        Prefilter(keywords=["a"], hashtags=["b"], account_did="did:plc:x").matches("text", value)


@FAST
@given(st.data())
def test_reddit_thing(data: st.DataObject) -> None:
    with contextlib.suppress(PayloadError):
        parse_thing(mutate(THING, data))


@FAST
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_feed_bytes(content: bytes) -> None:
    try:
        parse_feed(b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>' + content)
        parse_feed(content)
    except PayloadError:
        pass
