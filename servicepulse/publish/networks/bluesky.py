"""Bluesky copies through atproto (the connector's PDS and app password): `send_post` with a link facet and
an external embed (the link card), `delete_post`, and `app.bsky.feed.getPosts` for like, repost, reply and
quote counts. Bluesky has no edit: a changed post says so instead."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from servicepulse.core.fetcher import FetchError, checked_address, parse_retry_after
from servicepulse.publish.networks import URL_RE, Counts, Remote
from servicepulse.sources.registry import ConnectorError, connector_for

if TYPE_CHECKING:
    from atproto import Client

    from servicepulse.sources.models import Source

TIMEOUT = 15.0


def _client(source: Source) -> Client:
    import httpx
    from atproto import Client
    from atproto_client.request import Request

    connector = connector_for(source)
    handle, password = connector.option("handle"), connector.option("app_password")
    if not handle or not password:
        raise ConnectorError("this Bluesky account has no handle and app password, so it cannot post")
    pds_url = str(connector.option("pds_url"))

    def guard(request: httpx.Request) -> None:
        try:
            checked_address(
                request.url.host, request.url.port or (443 if request.url.scheme == "https" else 80)
            )
        except FetchError as exc:
            raise ConnectorError(f"bluesky: {exc}") from None

    client = Client(
        base_url=pds_url, request=Request(timeout=TIMEOUT, trust_env=False, event_hooks={"request": [guard]})
    )
    _guarded(lambda: client.login(str(handle), str(password), fetch_bsky_profile=False), pds_url)
    return client


def _guarded(function: Any, where: str) -> Any:
    from atproto.exceptions import AtProtocolError, NetworkError, RequestException

    try:
        return function()
    except RequestException as exc:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        content = getattr(response, "content", None)
        message = getattr(content, "message", None) or getattr(content, "error", None) or str(content or exc)
        headers = getattr(response, "headers", None) or {}
        retry = None
        if status == 429:
            retry = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
            reset = headers.get("ratelimit-reset") or headers.get("RateLimit-Reset")
            if retry is None and reset and str(reset).isdigit():
                retry = max(0.0, int(reset) - time.time())
        raise ConnectorError(f"bluesky: HTTP {status}: {message}", retry_after=retry) from None
    except NetworkError as exc:
        raise ConnectorError(f"bluesky: cannot reach {where}: {exc}") from None
    except AtProtocolError as exc:
        raise ConnectorError(f"bluesky: {exc}") from None


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


def publish(*, source: Source, text: str, link: str, title: str, summary: str, key: str = "") -> Remote:
    from atproto import models

    client = _client(source)
    embed = models.AppBskyEmbedExternal.Main(
        external=models.AppBskyEmbedExternal.External(uri=link, title=title[:300], description=summary[:1000])
    )
    did = client._session.did if client._session else None
    response = _guarded(
        lambda: client.send_post(text, profile_identify=did, embed=embed, facets=link_facets(text) or None),
        "the PDS",
    )
    return Remote(remote_id=response.uri, url=web_url(response.uri), extra={"cid": response.cid})


def delete(*, source: Source, remote_id: str) -> None:
    client = _client(source)
    _guarded(lambda: client.delete_post(remote_id), "the PDS")


def counts(*, source: Source, remote_ids: list[str]) -> dict[str, Counts]:
    client = _client(source)
    found: dict[str, Counts] = {}
    for start in range(0, len(remote_ids), 25):  # getPosts takes at most 25 uris
        batch = remote_ids[start : start + 25]
        response = _guarded(lambda batch=batch: client.get_posts(batch), "the AppView")
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
