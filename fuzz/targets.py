"""Fuzz targets: one function per parser, taking raw bytes.

A target returns normally for input it accepts or rejects with its documented error; anything else (an
unexpected exception, a failed safety assertion such as a <script> surviving sanitisation) is a bug.
`fuzz/run.py` drives them with atheris; `tests/fuzz/` replays `fuzz/crashes/` and runs hypothesis properties.
Add a target by adding a function to TARGETS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import django

django.setup()

from servicepulse.catalog.services import CatalogError, catalog_parse  # noqa: E402
from servicepulse.sources.connectors.file_import.parse import ParseError, parse_json_line  # noqa: E402


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def import_line(data: bytes) -> None:
    try:
        mention = parse_json_line(_text(data))
    except ParseError:
        return
    assert mention.text.strip()
    assert mention.created_at.tzinfo is not None


def catalog_yaml(data: bytes) -> None:
    import yaml

    try:
        document = yaml.safe_load(_text(data))
    except yaml.YAMLError:
        return
    try:
        records = catalog_parse(document)
    except CatalogError:
        return
    assert all(record["id"] and record["name"] for record in records)


def catalog_json(data: bytes) -> None:
    try:
        document = json.loads(_text(data))
    except json.JSONDecodeError:
        return
    try:
        catalog_parse(document)
    except CatalogError:
        return


def _json(data: bytes) -> object:
    try:
        return json.loads(_text(data))
    except (json.JSONDecodeError, RecursionError):
        return _text(data)  # parsers must refuse non-JSON-shaped input too


def _payload_target(
    parse: Callable[[object], object], *expected: type[BaseException]
) -> Callable[[bytes], None]:
    """A connector payload parser: any input either parses to a valid mention (or to nothing: an event it
    skips on purpose) or raises the connector's own refusal."""
    from servicepulse.mentions.services import MentionData
    from servicepulse.sources.registry import PayloadError

    def target(data: bytes) -> None:
        try:
            result = parse(_json(data))
        except (PayloadError, *expected):
            return
        assert result is None or isinstance(result, MentionData) or hasattr(result, "kind"), type(result)
        if isinstance(result, MentionData):
            assert result.text.strip() and result.created_at.tzinfo is not None and "\x00" not in result.text

    return target


def _connector_targets() -> dict[str, Callable[[bytes], None]]:
    from servicepulse.sources.connectors.bluesky import parse as bluesky
    from servicepulse.sources.connectors.discourse import parse as discourse
    from servicepulse.sources.connectors.facebook import parse as facebook
    from servicepulse.sources.connectors.mastodon import parse as mastodon
    from servicepulse.sources.connectors.reddit import parse as reddit
    from servicepulse.sources.connectors.slack import parse as slack
    from servicepulse.sources.connectors.widget import parse as widget
    from servicepulse.sources.connectors.x import parse as x

    return {
        "bluesky_event": _payload_target(bluesky.parse_event, bluesky.Skip),
        "mastodon_status": _payload_target(mastodon.parse_status, mastodon.Skip),
        "mastodon_stream": _payload_target(
            lambda v: mastodon.parse_stream_message(json.dumps(v)), mastodon.Skip
        ),
        "reddit_thing": _payload_target(reddit.parse_thing),
        "facebook_change": _payload_target(
            lambda v: facebook.parse_feed_change(v, page_id="1"), facebook.NoText
        ),
        "facebook_post": _payload_target(
            lambda v: facebook.parse_graph_post(v, page_id="1"), facebook.NoText
        ),
        "discourse_post": _payload_target(
            lambda v: discourse.parse_post(v, base_url="https://forum.example")
        ),
        "slack_message": _payload_target(lambda v: slack.parse_message(v, channel="C1")),
        "x_tweet": _payload_target(lambda v: x.parse_tweet(v, users={})),
        "widget_report": _payload_target(
            lambda v: widget.parse_report(v, services={"vle": "Moodle VLE"}) and None, widget.ParseError
        ),
    }


def rss_feed(data: bytes) -> None:
    from datetime import UTC, datetime

    from servicepulse.sources.connectors.rss.parse import parse_feed
    from servicepulse.sources.registry import PayloadError

    try:
        batch = parse_feed(data, base_url="https://feeds.example", now=datetime(2026, 11, 1, tzinfo=UTC))
    except PayloadError:
        return
    assert all(m.text.strip() and m.created_at.tzinfo is not None for m in batch.mentions)


def linkback_source(data: bytes) -> None:
    """A fetched Webmention/Pingback source page: reading it never fails, whatever it holds."""
    import httpx

    from servicepulse.blog.linkbacks.discovery import pingback_endpoint, read_source, webmention_endpoint
    from servicepulse.core.fetcher import FetchResponse

    link = data[:200].replace(b"\r", b" ").replace(b"\n", b" ")  # header bytes, as a server may send them
    for content_type in ("text/html", "application/json", "text/plain"):
        response = FetchResponse(
            url="https://source.example/post",
            status=200,
            headers=httpx.Headers({b"content-type": content_type.encode(), b"link": link}),
            content=_text(data).encode(),
        )
        read_source(response, "https://blog.example/posts/a/")
        webmention_endpoint(response)
        pingback_endpoint(response)


def markdown_render(data: bytes) -> None:
    """Posts and comments: no script, event handler or javascript: URL survives rendering."""
    from servicepulse.blog.markup import render_comment, render_markdown

    text = _text(data)
    for html in (render_markdown(text), render_comment(text)):
        lowered = html.lower()
        assert "<script" not in lowered and "javascript:" not in lowered and "<iframe" not in lowered, html
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", lowered), html


TARGETS: dict[str, Callable[[bytes], None]] = {
    "import_line": import_line,
    "catalog_yaml": catalog_yaml,
    "catalog_json": catalog_json,
    "rss_feed": rss_feed,
    "linkback_source": linkback_source,
    "markdown_render": markdown_render,
    **_connector_targets(),
}
