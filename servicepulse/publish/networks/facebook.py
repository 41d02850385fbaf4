"""Facebook Page copies through the Graph API (the connector's GraphClient, a Page access token):
`POST /{page-id}/feed` (message + link), `POST /{post-id}` (edit the message), `DELETE /{post-id}`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from servicepulse.publish.networks import Remote
from servicepulse.sources.registry import ConnectorError, SendKey, connector_for

if TYPE_CHECKING:
    from servicepulse.sources.connectors.facebook.client import GraphClient
    from servicepulse.sources.models import Source


def _client(source: Source) -> tuple[GraphClient, str]:
    connector = connector_for(source)
    return connector.client(), connector.page_id  # type: ignore[attr-defined]


def publish(
    *, source: Source, text: str, link: str, title: str, summary: str, key: SendKey | None = None
) -> Remote:
    client, page_id = _client(source)
    try:
        payload = client.call("POST", f"/{page_id}/feed", data={"message": text, "link": link})
    finally:
        client.close()
    post_id = payload.get("id")
    if not isinstance(post_id, str):
        raise ConnectorError("Facebook accepted the post but returned no id")
    return Remote(remote_id=post_id, url=f"https://www.facebook.com/{post_id}")


def update(*, source: Source, remote_id: str, text: str, link: str, title: str, summary: str) -> Remote:
    client, _ = _client(source)
    try:
        client.call("POST", f"/{remote_id}", data={"message": text})
    finally:
        client.close()
    return Remote(remote_id=remote_id, url=f"https://www.facebook.com/{remote_id}")


def delete(*, source: Source, remote_id: str) -> None:
    client, _ = _client(source)
    try:
        client.call("DELETE", f"/{remote_id}")
    finally:
        client.close()
