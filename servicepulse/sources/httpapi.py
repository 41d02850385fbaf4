"""Small helpers shared by connectors that speak to a platform's HTTP API with httpx (Facebook, Discourse).

They turn the platform's refusals into `ConnectorError` with the platform's own message and, for rate limits,
the wait it asked for (`Retry-After`, in seconds or as an HTTP date), so `source_record_failure` backs off by
exactly that much.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from servicepulse.sources.registry import ConnectorError

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
USER_AGENT = "servicepulse (+https://github.com/servicepulse)"


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date counted from now; None if unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(tz=UTC)).total_seconds(), 0.0)


def decode_json_response(response: httpx.Response, *, platform: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConnectorError(
            f"{platform} answered {response.status_code} with a body that is not JSON ({exc}); "
            "the response may have been cut short"
        ) from None


def send(client: httpx.Client, method: str, url: str, *, platform: str, **kwargs: Any) -> httpx.Response:
    """One request; network failures and cut-short bodies become ConnectorError."""
    try:
        response = client.request(method, url, **kwargs)
        response.read()
    except httpx.TimeoutException:
        raise ConnectorError(f"{platform} did not answer in time ({method} {url})") from None
    except httpx.HTTPError as exc:
        raise ConnectorError(f"{platform} request failed ({method} {url}): {exc}") from None
    return response
