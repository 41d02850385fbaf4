"""Shared set-up for engage tests: a Slack source whose Web API is a loopback replay server, an RSS source."""

from __future__ import annotations

from pathlib import Path

from servicepulse.sources.models import Source
from servicepulse.sources.services import source_create

SLACK_FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/slack/fixtures"


def slack_fixture(name: str) -> bytes:
    return (SLACK_FIXTURES / name).read_bytes()


def slack_source(*, api_url: str = "http://127.0.0.1:1/api/") -> Source:
    return source_create(
        kind="slack",
        name="staff-slack",
        options={
            "channels": "C024BE91L",
            "bot_token": "xoxb-test-token",
            "signing_secret": "test-signing-secret",
            "workspace_url": "https://northgate.slack.com",
            "api_base_url": api_url,
        },
    )


def point_at(source: Source, url: str) -> None:
    source.options["api_base_url"] = url + "/api/"
    source.save()


def slack_params(request) -> dict:  # type: ignore[no-untyped-def]
    """slack_sdk sends Web API arguments as JSON, a form body or a query string, depending on the method."""
    if request.headers.get("Content-Type", "").startswith("application/json"):
        return request.json()
    return {k: v[0] for k, v in {**request.query, **(request.form() if request.body else {})}.items()}
