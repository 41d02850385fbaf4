"""Single sign-on: the organisation's providers grant the default role; public ones (GitHub, for blog
commenters) never do."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.auth.models import User
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory

from servicepulse.accounts.adapters import SocialAccountAdapter
from servicepulse.accounts.roles import Role, user_role

pytestmark = pytest.mark.django_db


def _sign_up(provider: str, username: str) -> User:
    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type,return-value]
    login = SocialLogin(
        user=User(username=username, email=f"{username}@example.ac.uk"),
        account=SocialAccount(provider=provider, uid=username),
    )
    return SocialAccountAdapter().save_user(request, login)


@pytest.mark.parametrize(
    ("provider", "expected"), [("microsoft", Role.VIEWER), ("sso", Role.VIEWER), ("github", None)]
)
def test_default_role_only_for_organisation_providers(settings, provider: str, expected: Role | None) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_SSO_DEFAULT_ROLE = "viewer"
    user = _sign_up(provider, f"u-{provider}")
    assert user_role(User.objects.get(pk=user.pk)) == expected


def test_no_default_role_grants_nothing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_SSO_DEFAULT_ROLE = ""
    assert user_role(_sign_up("microsoft", "nobody")) is None


def _sign_up_with(provider: str, username: str, email: str, *, verified: bool) -> User:
    from allauth.account.models import EmailAddress

    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type,return-value]
    login = SocialLogin(
        user=User(username=username, email=email),
        account=SocialAccount(provider=provider, uid=username),
        email_addresses=[EmailAddress(email=email, verified=verified, primary=True)],
    )
    return SocialAccountAdapter().save_user(request, login)


def test_with_allowed_domains_only_their_verified_addresses_get_the_role(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_SSO_DEFAULT_ROLE = "viewer"
    settings.SERVICEPULSE_SSO_ALLOWED_DOMAINS = ["northgate.ac.uk"]
    assert user_role(_sign_up_with("google", "ana", "ana@northgate.ac.uk", verified=True)) == Role.VIEWER
    assert (
        user_role(_sign_up_with("google", "eve", "eve@gmail.com", verified=True)) is None
    )  # any Google user
    assert user_role(_sign_up_with("google", "mal", "mal@northgate.ac.uk", verified=False)) is None


def test_a_default_role_open_to_any_google_account_is_refused_at_start_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPULSE_SSO_")}
    env.update(
        SERVICEPULSE_SSO_GOOGLE_CLIENT_ID="g-id",
        SERVICEPULSE_SSO_GOOGLE_SECRET="g-secret",
        SERVICEPULSE_SSO_DEFAULT_ROLE="viewer",
        DJANGO_SETTINGS_MODULE="servicepulse.config.settings.test",
        SERVICEPULSE_DATA_DIR=str(tmp_path),
    )
    repo = Path(__file__).resolve().parents[2]
    run = [sys.executable, "-c", "import django; django.setup()"]
    refused = subprocess.run(run, cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "SERVICEPULSE_SSO_ALLOWED_DOMAINS" in refused.stderr
    env["SERVICEPULSE_SSO_ALLOWED_DOMAINS"] = "northgate.ac.uk"
    assert subprocess.run(run, cwd=repo, env=env, capture_output=True, timeout=60).returncode == 0
