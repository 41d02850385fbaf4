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
