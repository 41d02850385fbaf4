"""Mastodon copies through Mastodon.py (the connector's MastodonClient): `POST /api/v1/statuses`,
`PUT /api/v1/statuses/:id` (edit), `DELETE /api/v1/statuses/:id`, and `GET /api/v1/statuses/:id` for the
favourites, boosts and replies counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from servicepulse.publish.networks import Counts, Remote
from servicepulse.sources.registry import ConnectorError, SendKey, connector_for

if TYPE_CHECKING:
    from servicepulse.sources.connectors.mastodon.client import MastodonClient
    from servicepulse.sources.models import Source


def _client(source: Source) -> MastodonClient:
    connector = connector_for(source)
    if not connector.option("access_token"):
        raise ConnectorError("this Mastodon account has no access token (write:statuses), so it cannot post")
    return connector.client()  # type: ignore[attr-defined,no-any-return]


def publish(
    *, source: Source, text: str, link: str, title: str, summary: str, key: SendKey | None = None
) -> Remote:
    client = _client(source)
    status = client.post_status(
        "post", text=text, visibility="public", idempotency_key=key.name if key else ""
    )
    return Remote(remote_id=str(status["id"]), url=str(status.get("url") or status.get("uri") or ""))


def update(*, source: Source, remote_id: str, text: str, link: str, title: str, summary: str) -> Remote:
    client = _client(source)
    status = client.call("edit", client.api.status_update, remote_id, text)
    return Remote(remote_id=str(status["id"]), url=str(status.get("url") or ""))


def delete(*, source: Source, remote_id: str) -> None:
    client = _client(source)
    client.call("delete", client.api.status_delete, remote_id)


def counts(*, source: Source, remote_ids: list[str]) -> dict[str, Counts]:
    client = _client(source)
    found: dict[str, Counts] = {}
    for remote_id in remote_ids:
        status = client.call("status", client.api.status, remote_id)
        found[remote_id] = Counts(
            likes=int(status.get("favourites_count") or 0),
            reposts=int(status.get("reblogs_count") or 0),
            replies=int(status.get("replies_count") or 0),
            quotes=int(status.get("quotes_count") or 0),
        )
    return found


def quoted_ids(raw: dict) -> list[str]:  # type: ignore[type-arg]
    """Ids of the statuses a status quotes (Mastodon 4.5 `quote.quoted_status`)."""
    status = raw.get("status") if isinstance(raw.get("status"), dict) else raw  # notification or status
    quote = (status or {}).get("quote")
    if isinstance(quote, dict):
        quoted = quote.get("quoted_status")
        if isinstance(quoted, dict) and quoted.get("id"):
            return [str(quoted["id"])]
    return []
