"""X copies through tweepy (the connector's XClient, user context): `POST /2/tweets`, `DELETE /2/tweets/:id`.
Edits are not offered by the API; counts (public_metrics) are billed reads, so they are not refreshed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from servicepulse.publish.networks import Remote
from servicepulse.sources.registry import ConnectorError, SendKey

if TYPE_CHECKING:
    from servicepulse.sources.connectors.x.client import XClient
    from servicepulse.sources.models import Source


def _client(source: Source) -> tuple[XClient, bool]:
    from servicepulse.sources.connectors.x.client import API_HOST, XClient

    secrets = source.secrets
    base_url = str(source.options.get("api_base_url") or API_HOST)
    if secrets.get("user_access_token"):
        return XClient(bearer_token=secrets["user_access_token"], base_url=base_url), False
    keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    if all(secrets.get(k) for k in keys):
        return XClient(**{k: secrets[k] for k in keys}, base_url=base_url), True
    raise ConnectorError(
        "posting on X needs user_access_token, or consumer_key/consumer_secret/access_token/"
        "access_token_secret, on the account"
    )


def publish(
    *, source: Source, text: str, link: str, title: str, summary: str, key: SendKey | None = None
) -> Remote:
    """Post the copy; a retry (`key.retry`) first looks for it on the account (`XClient.post`)."""
    client, user_auth = _client(source)
    remote_id = client.post(text=text, user_auth=user_auth, key=key)
    return Remote(remote_id=remote_id, url=f"https://x.com/i/web/status/{remote_id}")


def delete(*, source: Source, remote_id: str) -> None:
    from servicepulse.sources.connectors.x.client import ERRORS, translate_error

    client, user_auth = _client(source)
    try:
        client.client.delete_tweet(remote_id, user_auth=user_auth)
    except ERRORS as exc:
        raise translate_error(exc, f"DELETE /2/tweets/{remote_id}") from None


def quoted_ids(raw: dict) -> list[str]:  # type: ignore[type-arg]
    refs = raw.get("referenced_tweets") if isinstance(raw, dict) else None
    return [
        str(r["id"]) for r in refs or [] if isinstance(r, dict) and r.get("type") == "quoted" and r.get("id")
    ]
