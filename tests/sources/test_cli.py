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
@pytest.mark.own_database  # its own SQLite database, whatever DATABASE_URL says
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

    removed = run_cli("sources", "remove", "su-news", "--yes", env=cli_env)
    assert removed.returncode == 0 and "3 mention" in removed.stdout

    refused = run_cli(
        "sources", "add", "mastodon", "--name", "m_poll", "--option", "api_base_url=https://m.example",
        "--option", "hashtags=uni", "--option", "poll_seconds=abc", env=cli_env,
    )  # fmt: skip
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines() == [
        "CommandError: mastodon option poll_seconds: must be a whole number, not 'abc'"
    ]


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


MASTO = ["--option", "api_base_url=https://m.example", "--option", "hashtags=uni"]
LOOPBACK = "api_base_url=http://127.0.0.1:9311"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        # QA: the token-carrying platforms pointed at a loopback server (SERVICEPULSE_FETCH_ALLOW_PRIVATE unset).
        (
            ["facebook", "--option", "page_id=123", "--option", "page_access_token=t", "--option", LOOPBACK],
            "facebook option api_base_url: refusing to connect to 127.0.0.1 (127.0.0.1): not a public address",
        ),
        (
            ["x", "--option", "queries=vle", "--option", "bearer_token=t", "--option", LOOPBACK],
            "x option api_base_url: refusing to connect to 127.0.0.1 (127.0.0.1): not a public address",
        ),
        (
            ["slack", "--option", "channels=C024BE91L", "--option", "bot_token=t", "--option", LOOPBACK],
            "slack option api_base_url: refusing to connect to 127.0.0.1 (127.0.0.1): not a public address",
        ),
        # QA: options the scheduler could not read.
        (
            ["mastodon", *MASTO, "--option", "streaming=false", "--option", "poll_seconds=abc"],
            "mastodon option poll_seconds: must be a whole number, not 'abc'",
        ),
        (
            ["mastodon", *MASTO, "--option", "streaming=maybe"],
            "mastodon option streaming: must be true or false, not 'maybe'",
        ),
        (
            ["mastodon", *MASTO, "--option", "poll_seconds=5"],
            "mastodon option poll_seconds: must be between 10 and 604800, not '5'",
        ),
        (
            ["rss", "--option", "url=https://feeds.example/rss", "--retention-days", "100000000000"],
            "retention must be between 1 and 36500 days",
        ),
        # QA: options that could only ever fail.
        (
            ["rss", "--option", "url=notaurl"],
            "rss option url: only http and https URLs can be fetched, not a",
        ),
        (
            ["rss", "--option", "url=ftp://x/y"],
            "rss option url: only http and https URLs can be fetched, not ftp",
        ),
        (
            ["rss", "--option", "url=file:///etc/passwd"],
            "rss option url: only http and https URLs can be fetched, not file",
        ),
        (
            ["rss", "--option", "url=https://user:pw@feeds.example/rss"],
            "rss option url: URLs with credentials in them are not fetched",
        ),
        (["bluesky"], "bluesky source: nothing to listen for: set keywords, hashtags or account_did"),
        (
            ["mastodon", "--option", "api_base_url=https://m.example"],
            "mastodon source: nothing to follow: set hashtags, keywords, or an access_token for mentions",
        ),
        (
            ["discourse", "--option", "base_url=forum"],
            "discourse option base_url: only http and https URLs can be fetched, not a relative URL",
        ),
        (
            ["discourse", "--option", "base_url=https://forum.example", "--option", "categories=it-help"],
            "discourse source: Discourse category 'it-help' should be 'slug/id' or an id",
        ),
        (
            ["widget", "--option", "rate_limit_per_hour=lots"],
            "widget option rate_limit_per_hour: must be a whole number, not 'lots'",
        ),
        (
            ["x", "--option", "queries=vle", "--option", "max_results=5000"],
            "x option max_results: must be between 10 and 100, not '5000'",
        ),
    ],
)
def test_add_refuses_options_that_can_only_fail(settings: Any, args: list[str], message: str) -> None:
    settings.SERVICEPULSE_FETCH_ALLOW_PRIVATE = False
    kind, *rest = args
    with pytest.raises(CommandError) as refused:
        call_command("sources", "add", kind, "--name", "refused", *rest)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
    assert not Source.objects.exists()


@pytest.mark.django_db
def test_list_json_has_null_for_missing_times(capsys: Any) -> None:
    call_command("sources", "add", "rss", "--name", "feed", "--option", "url=http://127.0.0.1:9/feed")
    capsys.readouterr()
    call_command("sources", "list", "--json")
    [row] = json.loads(capsys.readouterr().out)
    assert row["last_success"] is None and row["last_error_at"] is None and row["next_try"] is None
    call_command("sources", "list")
    assert "\tnever synced\t-\t-\t-\t0" in capsys.readouterr().out  # the table keeps its dashes


@pytest.mark.django_db
def test_list_with_no_sources_says_how_to_add_one(capsys: Any) -> None:
    call_command("sources", "list")
    out, err = capsys.readouterr()
    assert out.splitlines() == ["name\tkind\tenabled\tstatus\tlast success\tlast error\tnext try\tmentions"]
    assert "no sources yet" in err and "servicepulse sources add KIND" in err and "sources kinds" in err
    call_command("sources", "list", "--json")
    out, err = capsys.readouterr()
    assert json.loads(out) == [] and err == ""  # a script's JSON stays clean
