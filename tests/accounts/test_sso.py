"""Single sign-on is configured from the environment: each provider only when its variables are set, and the
sign-in page offers exactly those. (Default roles for SSO users: test_sso_roles.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli import run_cli

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import django, os
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from django.test import Client
    html = Client(HTTP_HOST="127.0.0.1").get("/accounts/login/").content.decode()
    print(sorted(settings.SOCIALACCOUNT_PROVIDERS))
    print([p for p in ("Microsoft", "Google", "Campus SSO") if f"Continue with {p}" in html])
    """
)


def probe(env: dict[str, str], tmp_path: Path) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPULSE_SSO_")}
    clean.update(
        env,
        DJANGO_SETTINGS_MODULE="servicepulse.config.settings.test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'sso.sqlite3'}",
        SERVICEPULSE_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=clean, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()


def test_no_provider_without_environment(tmp_path: Path) -> None:
    assert probe({}, tmp_path) == ["[]", "[]"]


@pytest.mark.slow
def test_providers_from_environment_show_on_the_sign_in_page(tmp_path: Path) -> None:
    lines = probe(
        {
            "SERVICEPULSE_SSO_MICROSOFT_CLIENT_ID": "ms-id",
            "SERVICEPULSE_SSO_MICROSOFT_SECRET": "ms-secret",
            "SERVICEPULSE_SSO_MICROSOFT_TENANT": "northgate.example",
            "SERVICEPULSE_SSO_GOOGLE_CLIENT_ID": "g-id",
            "SERVICEPULSE_SSO_GOOGLE_SECRET": "g-secret",
            "SERVICEPULSE_SSO_OIDC_CLIENT_ID": "o-id",
            "SERVICEPULSE_SSO_OIDC_SECRET": "o-secret",
            "SERVICEPULSE_SSO_OIDC_SERVER_URL": "https://login.northgate.example",
            "SERVICEPULSE_SSO_OIDC_NAME": "Campus SSO",
        },
        tmp_path,
    )
    assert lines[0] == "['google', 'microsoft', 'openid_connect']"
    assert lines[1] == "['Microsoft', 'Google', 'Campus SSO']"


def test_a_provider_without_its_secret_stops_start_up(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPULSE_SSO_")}
    clean.update(
        SERVICEPULSE_SSO_GOOGLE_CLIENT_ID="g-id",
        DJANGO_SETTINGS_MODULE="servicepulse.config.settings.test",
        SERVICEPULSE_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SERVICEPULSE_SSO_GOOGLE_SECRET" in result.stderr


SIGN_UP_PROBE = textwrap.dedent(
    """
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from allauth.account.models import EmailAddress
    from allauth.core.context import request_context
    from allauth.socialaccount.adapter import get_adapter
    from allauth.socialaccount.internal.flows.login import complete_login
    from allauth.socialaccount.models import SocialAccount, SocialLogin
    from django.contrib.auth.models import AnonymousUser, User
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import Client, RequestFactory

    html = Client(HTTP_HOST="127.0.0.1").get("/accounts/login/?next=/inbox/").content.decode()
    print([href for href in html.split('"') if "/accounts/google/login/" in href])

    # What allauth does when Google sends someone new back: their account is made (SSO sign-up stays open).
    request = RequestFactory().get("/accounts/google/login/callback/")
    SessionMiddleware(lambda r: None).process_request(request)
    MessageMiddleware(lambda r: None).process_request(request)
    request.user = AnonymousUser()
    login = SocialLogin(
        provider=get_adapter().get_provider(request, "google"),
        user=User(username="ama", email="ama@northgate.example"),
        account=SocialAccount(provider="google", uid="42"),
        email_addresses=[EmailAddress(email="ama@northgate.example", verified=True, primary=True)],
    )
    login.state = {"process": "login", "next": "/inbox/"}
    with request_context(request):
        response = complete_login(request, login)
    print(response.status_code, response.get("Location"), User.objects.filter(username="ama").count())
    """
)


@pytest.mark.slow
@pytest.mark.own_database
def test_sso_buttons_carry_next_once_and_sso_sign_up_stays_open(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPULSE_SSO_")}
    clean.update(
        SERVICEPULSE_SSO_GOOGLE_CLIENT_ID="g-id",
        SERVICEPULSE_SSO_GOOGLE_SECRET="g-secret",
        DJANGO_SETTINGS_MODULE="servicepulse.config.settings.test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'sso.sqlite3'}",
        SERVICEPULSE_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-c", SIGN_UP_PROBE],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    buttons, signed_up = result.stdout.strip().splitlines()
    assert buttons == "['/accounts/google/login/?process=login&amp;next=%2Finbox%2F']"
    assert signed_up == "302 /inbox/ 1"


@pytest.mark.own_database
@pytest.mark.parametrize("command", [["stats"], ["help"], ["run", "--help"], ["manage", "check"]])
def test_a_configuration_error_is_one_line_for_every_command(tmp_path: Path, command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPULSE_SSO_")}
    env.update(
        SERVICEPULSE_SSO_GOOGLE_CLIENT_ID="g-id",
        DJANGO_SETTINGS_MODULE="servicepulse.config.settings.test",
        SERVICEPULSE_DATA_DIR=str(tmp_path),
    )
    result = run_cli(*command, env=env)
    assert result.returncode == 1
    assert result.stderr == (
        "error: environment variable SERVICEPULSE_SSO_GOOGLE_SECRET is required when "
        "SERVICEPULSE_SSO_GOOGLE_CLIENT_ID is set\n"
    )
