"""LinkedIn organisation posts through the Posts API with httpx (`POST /rest/posts`, `LinkedIn-Version`
header, the new post's URN in `x-restli-id`; partial update with `X-RestLi-Method: PARTIAL_UPDATE`;
`DELETE /rest/posts/{urn}`). Only when SERVICEPULSE_LINKEDIN_TOKEN and SERVICEPULSE_LINKEDIN_ORGANIZATION
(an `urn:li:organization:…`) are configured; SERVICEPULSE_LINKEDIN_API_URL points elsewhere in tests."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx

from servicepulse.config.env import get_env
from servicepulse.core.fetcher import parse_retry_after
from servicepulse.publish.networks import URL_RE, Remote, shorten
from servicepulse.sources.registry import ConnectorError, SendKey

VERSION = "202510"
# The Posts API reads `commentary` as "little" text: these characters are markup (mentions, hashtags,
# templates) and LinkedIn silently cuts the post at the first one left unescaped ("Moodle (VLE)" would read
# "Moodle "). A "#" starting a hashtag stays as it is, so the hashtag still links, and so do URLs.
LITTLE_RESERVED = re.compile(r"[\\|{}@\[\]()<>*_~]|#(?!\w)")


def little_text(text: str) -> str:
    """`text` as plain text in LinkedIn's little format: reserved characters backslash-escaped, URLs kept."""
    parts = []
    position = 0
    for match in URL_RE.finditer(text):
        parts.append(LITTLE_RESERVED.sub(lambda m: "\\" + m.group(0), text[position : match.start()]))
        parts.append(match.group(0))
        position = match.end()
    parts.append(LITTLE_RESERVED.sub(lambda m: "\\" + m.group(0), text[position:]))
    return "".join(parts)


def configured() -> bool:
    return bool(get_env("SERVICEPULSE_LINKEDIN_TOKEN", "")) and bool(
        get_env("SERVICEPULSE_LINKEDIN_ORGANIZATION", "")
    )


def _http() -> httpx.Client:
    token = get_env("SERVICEPULSE_LINKEDIN_TOKEN", "")
    if not configured():
        raise ConnectorError(
            "LinkedIn needs SERVICEPULSE_LINKEDIN_TOKEN and SERVICEPULSE_LINKEDIN_ORGANIZATION"
        )
    return httpx.Client(
        base_url=get_env("SERVICEPULSE_LINKEDIN_API_URL", "https://api.linkedin.com"),
        timeout=15.0,
        headers={
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        },
    )


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code < 400:
        return
    try:
        message = str(response.json().get("message") or response.text[:300])
    except ValueError:
        message = response.text[:300]
    retry = parse_retry_after(response.headers.get("Retry-After")) if response.status_code == 429 else None
    raise ConnectorError(f"LinkedIn {what}: HTTP {response.status_code}: {message}", retry_after=retry)


def _send(method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
    with _http() as http:
        try:
            response = http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"LinkedIn {what}: {exc}") from None
    _check(response, what)
    return response


def publish(
    *, source: Any, text: str, link: str, title: str, summary: str, key: SendKey | None = None
) -> Remote:
    body = {
        "author": get_env("SERVICEPULSE_LINKEDIN_ORGANIZATION", ""),
        "commentary": little_text(text),
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "content": {"article": {"source": link, "title": title[:200], "description": shorten(summary, 300)}},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    response = _send("POST", "/rest/posts", "post", json=body)
    urn = response.headers.get("x-restli-id", "")
    if not urn:
        raise ConnectorError("LinkedIn accepted the post but returned no x-restli-id")
    return Remote(remote_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")


def update(*, source: Any, remote_id: str, text: str, link: str, title: str, summary: str) -> Remote:
    _send(
        "POST", f"/rest/posts/{quote(remote_id, safe='')}", "edit",
        json={"patch": {"$set": {"commentary": little_text(text)}}}, headers={"X-RestLi-Method": "PARTIAL_UPDATE"},
    )  # fmt: skip
    return Remote(remote_id=remote_id, url=f"https://www.linkedin.com/feed/update/{remote_id}/")


def delete(*, source: Any, remote_id: str) -> None:
    _send("DELETE", f"/rest/posts/{quote(remote_id, safe='')}", "delete")
