"""`servicepulse crosspost-account` and `servicepulse digest` as a user runs them: what they refuse, say and
send."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from servicepulse.publish.models import CrossPostTarget
from tests.cli import run_cli

LINKEDIN_TOKEN = "SERVICEPULSE_LINKEDIN_TOKEN"
LINKEDIN_ORGANIZATION = "SERVICEPULSE_LINKEDIN_ORGANIZATION"


def help_text(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        call_command(command, "--help")
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.django_db
def test_linkedin_is_refused_until_both_settings_are_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LINKEDIN_TOKEN, raising=False)
    monkeypatch.delenv(LINKEDIN_ORGANIZATION, raising=False)
    with pytest.raises(CommandError) as info:
        call_command("crosspost_account", "linkedin")
    assert str(info.value) == f"LinkedIn is not configured: set {LINKEDIN_TOKEN} and {LINKEDIN_ORGANIZATION}"
    monkeypatch.setenv(LINKEDIN_TOKEN, "li-token")
    with pytest.raises(CommandError) as info:
        call_command("crosspost_account", "linkedin", "--mode", "auto")
    assert str(info.value) == f"LinkedIn is not configured: set {LINKEDIN_ORGANIZATION}"
    assert not CrossPostTarget.objects.exists()  # nothing reported as enabled, nothing stored


@pytest.mark.django_db
def test_linkedin_configured_is_enabled_and_can_always_be_disabled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(LINKEDIN_TOKEN, "li-token")
    monkeypatch.setenv(LINKEDIN_ORGANIZATION, "urn:li:organization:5515715")
    call_command("crosspost_account", "linkedin", "--mode", "auto")
    assert json.loads(capsys.readouterr().out) == {
        "network": "linkedin", "account": "linkedin", "enabled": True, "mode": "auto"
    }  # fmt: skip
    # The settings removed later: turning it off still works (and is what one would want).
    monkeypatch.delenv(LINKEDIN_TOKEN)
    call_command("crosspost_account", "linkedin", "--disable")
    assert json.loads(capsys.readouterr().out)["enabled"] is False
    assert not CrossPostTarget.objects.get(network="linkedin", source__isnull=True).enabled


def test_crosspost_account_help_explains_mode_and_disable(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text("crosspost_account", capsys)
    assert "--mode {review,auto} review (the default): a published post's copy waits as a draft" in text
    assert "auto: the copy is sent as soon as the post is published" in text
    assert "--disable turn cross-posting off for this account" in text


def test_digest_email_without_an_address_is_a_usage_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    env = {**os.environ, "SERVICEPULSE_DATA_DIR": str(tmp_path / "data")}
    done = run_cli("digest", "--email", env=env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines()[-1] == (
        "servicepulse digest: error: argument --email: expected at least one argument"
    )
    with pytest.raises(CommandError, match="--email: expected at least one argument"):
        call_command("digest", "--email")


@pytest.mark.django_db
def test_digest_email_with_an_empty_address_sends_nothing_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(CommandError) as info:
        call_command("digest", "--week", "2026-11-16", "--email", "")  # `--email "$TO"`, TO unset
    assert str(info.value) == "--email: an empty address (give the addresses to send the digest to)"
    assert mail.outbox == []
    assert capsys.readouterr().out == ""


@pytest.mark.django_db
def test_digest_email_says_where_it_was_sent(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("digest", "--week", "2026-11-16", "--email", "cio@example.ac.uk", "desk@example.ac.uk")
    assert [m.to for m in mail.outbox] == [["cio@example.ac.uk", "desk@example.ac.uk"]]
    captured = capsys.readouterr()
    assert captured.out.startswith("week of 2026-11-16: 0 posts")
    assert captured.err.strip() == "sent to cio@example.ac.uk, desk@example.ac.uk"
