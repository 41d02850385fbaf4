"""`servicepulse users ...`: headless set-up of people and roles, with the Users page's rules."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from servicepulse.accounts.roles import Role, user_role

pytestmark = pytest.mark.django_db


def users_cmd(*args: str) -> str:
    out = StringIO()
    call_command("users", *args, stdout=out)
    return out.getvalue()


def test_add_list_role_deactivate(settings: Any) -> None:
    settings.BASE_URL = "https://pulse.northgate.example"
    out = users_cmd("add", "amara", "--role", "admin", "--email", "amara@northgate.example")
    assert out.splitlines() == [
        "added amara (admin)",
        "sent a link to choose a password to amara@northgate.example",
    ]
    [message] = mail.outbox
    assert "https://pulse.northgate.example/accounts/password/reset/key/" in message.body
    amara = User.objects.get(username="amara")
    assert user_role(amara) == Role.ADMIN and not amara.has_usable_password()

    out = users_cmd("add", "kofi", "--role", "viewer")
    assert "servicepulse manage changepassword kofi" in out
    assert users_cmd("role", "kofi", "responder").strip() == "kofi: responder"
    assert users_cmd("deactivate", "KOFI").strip() == "kofi: deactivated"

    rows = [json.loads(line) for line in users_cmd("list", "--json").splitlines()]
    assert rows == [
        {
            "username": "amara",
            "role": "admin",
            "email": "amara@northgate.example",
            "last_login": None,
            "active": True,
        },
        {"username": "kofi", "role": "responder", "email": "", "last_login": None, "active": False},
    ]
    assert users_cmd("list").splitlines()[1] == "kofi\tresponder\t-\tnever\tdeactivated"


def test_refusals_are_one_line_errors() -> None:
    users_cmd("add", "amara", "--role", "admin")
    with pytest.raises(CommandError, match=r"^username: There is already someone called Amara"):
        users_cmd("add", "Amara", "--role", "viewer")
    with pytest.raises(
        CommandError, match=r"^amara is the only active admin: make someone else an admin first\.$"
    ):
        users_cmd("role", "amara", "none")
    with pytest.raises(CommandError, match="amara is the only active admin"):
        users_cmd("deactivate", "amara")
    with pytest.raises(CommandError, match=r"^no user called 'nobody'"):
        users_cmd("role", "nobody", "viewer")


def test_add_with_mail_written_to_files_does_not_claim_it_was_sent(settings: Any, tmp_path: Path) -> None:
    # The dev settings' default (`servicepulse run` on a laptop): the e-mail lands in a file, not in a mailbox.
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    out = users_cmd("add", "amara", "--role", "admin", "--email", "amara@northgate.example")
    assert "sent a link" not in out
    assert f"was written to {tmp_path}" in out
    [written] = list(tmp_path.iterdir())
    assert "/accounts/password/reset/key/" in written.read_text()
