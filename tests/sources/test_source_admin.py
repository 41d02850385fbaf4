"""Setting up sources as an admin does the first time, through the sources pages and `servicepulse sources`:
names that must survive being part of a web address, syncing a source that is not pulled, forgetting a
secret, and the log of a pull keeping the platform's token out."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from servicepulse.sources.models import Source
from servicepulse.sources.services import source_create
from tests.cli import run_cli
from tests.replay import ReplayServer, Reply


def _text(page: bytes) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.decode())))


@pytest.mark.django_db
def test_names_that_cannot_be_part_of_the_webhook_address_are_refused_with_what_was_typed_kept(
    clients: dict[str, Client],
) -> None:
    admin = clients["admin"]
    # A line break: the source page could not build its webhook address (NoReverseMatch, a 500).
    response = admin.post(
        "/sources/add/",
        {"kind": "slack", "name": "IT\nhelp", "option_channels": "C024BE91L", "option_signing_secret": "s"},
    )
    assert response.status_code == 200
    text = _text(response.content)
    assert "a source name cannot hold a line break, a tab or another control character" in text
    assert 'value="C024BE91L"' in response.content.decode()  # the rest of what was typed is kept
    assert not Source.objects.exists()

    # Segments HTTP clients and proxies rewrite: "a/../b" arrives as /sources/hooks/b/, "/x" as hooks/x/.
    for name in ("Slack/../help", "/Slack", "Slack/", "IT//Slack", ".", "IT/./Slack"):
        with pytest.raises(
            CommandError, match=re.escape("cannot start or end with '/', hold '//', or have '.'")
        ):
            call_command("sources", "add", "slack", "--name", name, "--option", "channels=C024BE91L")
    assert not Source.objects.exists()

    # A slash between words stays allowed, and the address the page shows reaches the source.
    response = admin.post(
        "/sources/add/",
        {"kind": "slack", "name": "IT / Slack", "option_channels": "C024BE91L", "option_signing_secret": "s"},
        follow=True,
    )
    page = response.content.decode()
    [shown] = re.findall(r"<code>(http[^<]*/hooks/[^<]*)</code>", page)
    assert shown == "http://127.0.0.1:8000/sources/hooks/IT%20/%20Slack/"
    # It reaches the source: refused for its missing signature, not 404 for an unknown one.
    delivery = Client().post(shown.removeprefix("http://127.0.0.1:8000"), b"{}", "application/json")
    assert delivery.status_code == 403 and "X-Slack-Request-Timestamp" in delivery.json()["error"]


@pytest.mark.django_db(transaction=True)
def test_sync_of_a_source_that_is_not_pulled_is_refused_and_leaves_its_health_alone(
    clients: dict[str, Client], immediate_tasks: Any
) -> None:
    widget = source_create(kind="widget", name="portal widget")
    response = clients["admin"].post(f"/sources/{widget.pk}/sync/", follow=True)
    assert "portal widget is not pulled: its posts are sent to it" in _text(response.content)
    with pytest.raises(CommandError, match="portal widget is not pulled"):
        call_command("sources", "sync", "portal widget")
    widget.refresh_from_db()
    # It used to be recorded as a failure: the widget showed "failing" with "widget sources are not pulled".
    assert widget.last_error == "" and widget.last_error_at is None and widget.consecutive_failures == 0
    listing = _text(clients["admin"].get("/sources/").content)
    assert "failing" not in listing and "receives" in listing


@pytest.mark.django_db
def test_set_with_an_empty_value_forgets_a_secret_and_keeps_the_others(capsys: Any) -> None:
    call_command(
        "sources", "add", "x", "--name", "x-search",
        "--option", "queries=moodle northgate",
        "--option", "bearer_token=app-bearer",
        "--option", "user_access_token=revoked-user-token",
    )  # fmt: skip
    call_command("sources", "set", "x-search", "--option", "user_access_token=")
    source = Source.objects.get(name="x-search")
    assert source.secrets == {"bearer_token": "app-bearer"}
    # A secret not named keeps its value; one the source cannot work without is refused, not dropped.
    call_command("sources", "set", "x-search", "--option", "max_pages=2")
    assert Source.objects.get(name="x-search").secrets == {"bearer_token": "app-bearer"}
    call_command(
        "sources", "add", "reddit", "--name", "r",
        "--option", "subreddits=northgate", "--option", "client_id=id", "--option", "client_secret=cs",
        "--option", "username=u", "--option", "password=pw",
    )  # fmt: skip
    with pytest.raises(CommandError, match=r"missing required option.*password"):
        call_command("sources", "set", "r", "--option", "password=")
    assert Source.objects.get(name="r").secrets["password"] == "pw"
    # A mistyped name to forget is refused, not reported as "updated" with nothing changed.
    with pytest.raises(CommandError, match=r"unknown option\(s\) for x: user_acess_token"):
        call_command("sources", "set", "x-search", "--option", "user_acess_token=")


@pytest.mark.slow
@pytest.mark.own_database  # its own SQLite database, whatever DATABASE_URL says
def test_a_facebook_pull_at_the_default_log_level_does_not_log_the_page_token(tmp_path: Path) -> None:
    # The settings a deployment runs with (the test settings log only warnings), at the default level.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="servicepulse.config.settings.dev",
        SERVICEPULSE_DATA_DIR=str(tmp_path),
        SERVICEPULSE_TASK_BACKEND="database",
        SERVICEPULSE_LOG_LEVEL="INFO",
        SERVICEPULSE_FETCH_ALLOW_NETWORKS="127.0.0.1/32",
    )
    env.pop("SERVICEPULSE_FETCH_ALLOW_PRIVATE", None)
    migrated = run_cli("manage", "migrate", "-v0", env=env, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    routes = {("GET", "/v23.0/104857600123456/feed"): [Reply(200, body={"data": []})]}
    with ReplayServer(routes) as server:
        added = run_cli(
            "sources", "add", "facebook", "--name", "northgate-fb",
            "--option", "page_id=104857600123456",
            "--option", "page_access_token=EAAG-secret-page-token",
            "--option", "app_secret=fb-app-secret",
            "--option", f"api_base_url={server.url}",
            env=env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        synced = run_cli("sources", "sync", "northgate-fb", env=env)
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout.strip().splitlines()[-1])["created"] == 0
    assert server.requests and server.requests[0].query["access_token"] == ["EAAG-secret-page-token"]
    for output in (added, synced):
        assert "EAAG-secret-page-token" not in output.stdout + output.stderr
        assert "fb-app-secret" not in output.stdout + output.stderr


@pytest.mark.django_db
def test_webhook_card_names_the_secret_still_missing_and_a_secret_can_be_set_kept_and_forgotten(
    clients: dict[str, Client],
) -> None:
    admin = clients["admin"]
    response = admin.post(
        "/sources/add/", {"kind": "slack", "name": "IT Slack", "option_channels": "C024BE91L"}, follow=True
    )
    source = Source.objects.get(name="IT Slack")
    text = _text(response.content)
    assert "http://127.0.0.1:8000/sources/hooks/IT%20Slack/" in text
    # Slack's URL check would fail with no reason given anywhere: the page says what to set.
    assert "Not set yet: signing_secret. Every delivery is refused until it is set ( change options )" in text
    assert "made with the secret stored in this source's options" not in text
    viewer = _text(clients["viewer"].get(f"/sources/{source.pk}/").content)
    assert "Not set yet: signing_secret. Every delivery is refused until it is set." in viewer

    edit = f"/sources/{source.pk}/edit/"
    admin.post(
        edit, {"option_channels": "C024BE91L", "option_signing_secret": "8f742231b10e8888abcd99yyyzzz"}
    )
    page = admin.get(f"/sources/{source.pk}/").content
    assert "Not set yet" not in _text(page) and "made with the secret stored" in _text(page)
    assert b"8f742231b10e8888abcd99yyyzzz" not in page
    form = admin.get(edit).content
    assert b"8f742231b10e8888abcd99yyyzzz" not in form and b"Forget the stored signing_secret" in form

    # Left empty, the secret is kept; the box forgets it.
    admin.post(edit, {"option_channels": "C024BE91L, C0G9QF9GW"})
    source.refresh_from_db()
    assert source.secrets == {"signing_secret": "8f742231b10e8888abcd99yyyzzz"}
    assert source.options["channels"] == "C024BE91L, C0G9QF9GW"
    response = admin.post(edit, {"option_channels": "C024BE91L", "forget_signing_secret": "on"}, follow=True)
    source.refresh_from_db()
    assert source.secrets_encrypted == "" and "Saved the options of IT Slack." in _text(response.content)
    assert "Not set yet: signing_secret." in _text(response.content)

    # A secret the platform cannot be read without is not forgotten: the form says so and keeps it.
    reddit = source_create(
        kind="reddit",
        name="r/northgate",
        options={
            "subreddits": "northgate", "client_id": "id", "client_secret": "cs", "username": "u", "password": "pw"
        },
    )  # fmt: skip
    response = admin.post(
        f"/sources/{reddit.pk}/edit/",
        {"option_subreddits": "northgate", "option_client_id": "id", "option_username": "u",
         "forget_password": "on"},
    )  # fmt: skip
    assert response.status_code == 200 and "missing required option(s) for reddit: password" in _text(
        response.content
    )
    reddit.refresh_from_db()
    assert reddit.secrets["password"] == "pw"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_only_admins_change_sources(clients: dict[str, Client], role: str) -> None:
    source = source_create(kind="rss", name="su-news", options={"url": "https://su.example/feed"})
    client = clients[role]
    assert client.get(f"/sources/{source.pk}/").status_code == 200  # reading is for everyone signed in
    writes = [
        ("get", "/sources/add/", {}),
        ("post", "/sources/add/", {"kind": "rss", "name": "other", "option_url": "https://e.example/"}),
        ("get", f"/sources/{source.pk}/edit/", {}),
        ("post", f"/sources/{source.pk}/edit/", {"option_url": "https://evil.example/feed"}),
        ("post", f"/sources/{source.pk}/toggle/", {}),
        ("post", f"/sources/{source.pk}/sync/", {}),
        ("get", f"/sources/{source.pk}/remove/", {}),
        ("post", f"/sources/{source.pk}/remove/", {}),
        ("post", f"/sources/{source.pk}/quarantine/discard/", {}),
    ]
    for method, path, data in writes:
        assert getattr(client, method)(path, data).status_code == 403, (method, path)
    source.refresh_from_db()
    assert source.enabled and source.options["url"] == "https://su.example/feed"
    assert list(Source.objects.values_list("name", flat=True)) == ["su-news"]
