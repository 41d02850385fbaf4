"""django-allauth adapters: people who arrive through the organisation's single sign-on (Microsoft Entra ID,
Google Workspace, generic OpenID Connect) get the configured default role. Public providers (GitHub), offered
so anyone can comment on the blog, never grant a role."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth.models import Group
from django.http import HttpRequest

from servicepulse.accounts.roles import Role


def organisation_providers() -> set[str]:
    """Provider ids whose accounts belong to the organisation (an OpenID Connect app is stored by its id)."""
    return {
        "microsoft",
        "google",
        "openid_connect",
        getattr(settings, "SERVICEPULSE_SSO_OIDC_PROVIDER_ID", "sso"),
    }


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def save_user(self, request: HttpRequest, sociallogin: Any, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        role = getattr(settings, "SERVICEPULSE_SSO_DEFAULT_ROLE", "")
        provider = getattr(getattr(sociallogin, "account", None), "provider", "")
        if role in Role.values and provider in organisation_providers():
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
        return user
