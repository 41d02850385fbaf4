"""`servicepulse sources ...` run as a real process against a fresh SQLite database and a loopback feed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from servicepulse.sources.models import Source
from tests.cli import run_cli
from tests.replay import ReplayServer, Reply

FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/rss/fixtures"


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="servicepulse.config.settings.test",
        SERVICEPULSE_DATA_DIR=str(tmp_path),
        SERVICEPULSE_TASK_BACKEND="database",
    )
    migrated = run_cli("manage", "migrate", "-v0", env=env)
    assert migrated.returncode == 0, migrated.stderr
    return env


@pytest.mark.slow
def test_rss_add_sync_twice_then_failing_feed(cli_env: dict[str, str]) -> None:
    routes = {("GET", "/feed"): [Reply(200, body=(FIXTURES / "rss20.xml").read_bytes())]}
    with ReplayServer(routes) as server:
        added = run_cli(
            "sources", "add", "rss", "--name", "su-news", "--option", f"url={server.url}/feed", env=cli_env
        )
        assert added.returncode == 0, added.stderr
        first = run_cli("sources", "sync", "su-news", env=cli_env)
        second = run_cli("sources", "sync", "su-news", env=cli_env)
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout.strip().splitlines()[-1]) == {
            "created": 3,
            "duplicates": 0,
            "quarantined": 0,
        }
        assert json.loads(second.stdout.strip().splitlines()[-1]) == {
            "created": 0,
            "duplicates": 3,
            "quarantined": 0,
        }

        server.add("GET", "/feed", Reply(503, {"Retry-After": "120"}, "feed server down for maintenance"))
        failed = run_cli("sources", "sync", "su-news", env=cli_env)
    assert failed.returncode != 0
    assert "HTTP 503" in failed.stderr and "feed server down for maintenance" in failed.stderr

    listing = run_cli("sources", "list", "--json", env=cli_env)
    [row] = json.loads(listing.stdout)
    assert row["name"] == "su-news" and row["status"] == "failing" and row["mentions"] == 3
    assert "HTTP 503" in row["last_error"] and row["next_try"] != "-"
    table = run_cli("sources", "list", env=cli_env)
    assert table.stdout.splitlines()[0].split("\t")[:4] == ["name", "kind", "enabled", "status"]
    assert "HTTP 503" in table.stdout

    stats = run_cli("stats", "--json", env=cli_env)
    assert json.loads(stats.stdout)["mentions"] == 3  # nothing lost by the failure

    kinds = run_cli("sources", "kinds", env=cli_env)
    lines = dict(line.split("\t", 1) for line in kinds.stdout.strip().splitlines())
    assert {"rss", "mastodon", "bluesky", "reddit", "import"} <= set(lines)

    removed = run_cli("sources", "remove", "su-news", env=cli_env)
    assert removed.returncode == 0 and "3 mention" in removed.stdout


@pytest.mark.django_db
def test_add_errors_name_the_option(capsys: Any) -> None:
    with pytest.raises(CommandError, match=r"missing required option.*url"):
        call_command("sources", "add", "rss", "--name", "x")
    with pytest.raises(CommandError, match=r"unknown option.*colour"):
        call_command(
            "sources", "add", "rss", "--name", "x", "--option", "url=http://a/", "--option", "colour=red"
        )
    with pytest.raises(CommandError, match="unknown source kind 'gopher'"):
        call_command("sources", "add", "gopher", "--name", "x")
    with pytest.raises(CommandError, match="key=value"):
        call_command("sources", "add", "rss", "--name", "x", "--option", "url")
    assert not Source.objects.exists()


@pytest.mark.django_db
def test_secrets_are_encrypted(capsys: Any) -> None:
    call_command(
        "sources", "add", "mastodon", "--name", "masto",
        "--option", "api_base_url=https://mastodon.example",
        "--option", "access_token=s3cr3t-token",
        "--option", "hashtags=vle,moodle",
    )  # fmt: skip
    assert "secrets encrypted: access_token" in capsys.readouterr().out
    source = Source.objects.get(name="masto")
    assert "s3cr3t-token" not in json.dumps(source.options) and "s3cr3t-token" not in source.secrets_encrypted
    assert source.secrets == {"access_token": "s3cr3t-token"}


@pytest.mark.django_db
def test_sync_unknown_and_toggle(capsys: Any) -> None:
    with pytest.raises(CommandError, match="no source named 'nope'"):
        call_command("sources", "sync", "nope")
    call_command("sources", "add", "rss", "--name", "feed", "--option", "url=http://127.0.0.1:9/feed")
    call_command("sources", "disable", "feed")
    assert not Source.objects.get(name="feed").enabled
    call_command("sources", "enable", "feed")
    assert Source.objects.get(name="feed").enabled
