"""Bluesky copies through atproto (the connector's PdsClient, signed in with its app password): `send_post`
with a link facet and an external embed (the link card), `delete_post`, and `app.bsky.feed.getPosts` for like,
repost, reply and quote counts. Bluesky has no edit: a changed post says so instead."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from servicepulse.publish.networks import URL_RE, Counts, Remote
from servicepulse.sources.connectors.bluesky.client import PdsClient, create_post, post_record
from servicepulse.sources.registry import ConnectorError, SendKey, connector_for

if TYPE_CHECKING:
    from servicepulse.sources.models import Source


def _client(source: Source) -> PdsClient:
    connector = connector_for(source)
    handle, password = connector.option("handle"), connector.option("app_password")
    if not handle or not password:
        raise ConnectorError("this Bluesky account has no handle and app password, so it cannot post")
    client = PdsClient(pds_url=str(connector.option("pds_url")))
    client.login(handle=str(handle), app_password=str(password))
    return client


def link_facets(text: str) -> list[Any]:
    """A link facet for every URL in `text`, with UTF-8 byte offsets as the richtext spec requires."""
    from atproto import models

    facets = []
    for match in URL_RE.finditer(text):
        start = len(text[: match.start()].encode("utf-8"))
        end = start + len(match.group(0).encode("utf-8"))
        facets.append(
            models.AppBskyRichtextFacet.Main(
                index=models.AppBskyRichtextFacet.ByteSlice(byte_start=start, byte_end=end),
                features=[models.AppBskyRichtextFacet.Link(uri=match.group(0))],
            )
        )
    return facets


def web_url(uri: str) -> str:
    did, _, rkey = uri.removeprefix("at://").partition("/app.bsky.feed.post/")
    return f"https://bsky.app/profile/{did}/post/{rkey}" if rkey else ""


def publish(
    *, source: Source, text: str, link: str, title: str, summary: str, key: SendKey | None = None
) -> Remote:
    """Post the copy; with `key`, under a record key of its own, so a retry after a timeout does not post it
    twice (see `create_post`)."""
    from atproto import models

    client = _client(source)
    embed = models.AppBskyEmbedExternal.Main(
        external=models.AppBskyEmbedExternal.External(uri=link, title=title[:300], description=summary[:1000])
    )
    record = post_record(client, text=text, embed=embed, facets=link_facets(text) or None)
    created = create_post(client, record=record, key=key)
    return Remote(remote_id=created["uri"], url=web_url(created["uri"]), extra={"cid": created["cid"]})


def delete(*, source: Source, remote_id: str) -> None:
    client = _client(source)
    client.call(lambda: client.api.delete_post(remote_id), where="the PDS")


def counts(*, source: Source, remote_ids: list[str]) -> dict[str, Counts]:
    client = _client(source)
    found: dict[str, Counts] = {}
    for start in range(0, len(remote_ids), 25):  # getPosts takes at most 25 uris
        batch = remote_ids[start : start + 25]
        response = client.call(partial(client.api.get_posts, batch), where="the AppView")
        for view in response.posts:
            found[view.uri] = Counts(
                likes=view.like_count or 0,
                reposts=view.repost_count or 0,
                replies=view.reply_count or 0,
                quotes=view.quote_count or 0,
            )
    return found


def quoted_ids(raw: dict) -> list[str]:  # type: ignore[type-arg]
    """The post a Jetstream post event quotes (an `app.bsky.embed.record` or `recordWithMedia` embed)."""
    record = ((raw.get("commit") or {}).get("record") or {}) if isinstance(raw, dict) else {}
    embed = record.get("embed") or {}
    inner = embed.get("record") or {}
    if isinstance(inner, dict) and isinstance(inner.get("record"), dict):  # recordWithMedia
        inner = inner["record"]
    uri = inner.get("uri") if isinstance(inner, dict) else None
    return [str(uri)] if uri else []
