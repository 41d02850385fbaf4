"""django-allauth adapters.

Local sign-up is closed: password accounts are made by admins (the Users page, `servicepulse users add`).
Sign-up through a configured provider stays open: people who arrive through the organisation's single sign-on
(Microsoft Entra ID, Google Workspace, generic OpenID Connect) get the configured default role; public
providers (GitHub), offered so anyone can comment on the blog, never grant a role; with
SERVICEPULSE_SSO_ALLOWED_DOMAINS set, only verified addresses in those domains get the default role."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth.models import Group
from django.http import HttpRequest

from servicepulse.accounts.roles import Role
from servicepulse.core.ratelimit import client_address


def organisation_providers() -> set[str]:
    """Provider ids whose accounts belong to the organisation (an OpenID Connect app is stored by its id)."""
    return {
        "microsoft",
        "google",
        "openid_connect",
        getattr(settings, "SERVICEPULSE_SSO_OIDC_PROVIDER_ID", "sso"),
    }


def in_allowed_domains(sociallogin: Any) -> bool:
    """True when SERVICEPULSE_SSO_ALLOWED_DOMAINS is empty, or the provider vouches for an address of the person
    in one of those domains (a verified e-mail address)."""
    domains = set(getattr(settings, "SERVICEPULSE_SSO_ALLOWED_DOMAINS", []) or [])
    if not domains:
        return True
    for address in getattr(sociallogin, "email_addresses", []) or []:
        email = str(getattr(address, "email", "") or "")
        if getattr(address, "verified", False) and email.rpartition("@")[2].lower() in domains:
            return True
    return False


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # allauth asks this for /accounts/signup/ (and, by default, for social sign-up too: see below).
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth counts sign-in attempts (10 failures a minute per address, 30 sign-ins a minute) by this
        # address. Its own reading trusts X-Forwarded-For only with ALLAUTH_TRUSTED_PROXY_COUNT, which
        # servicepulse does not set: behind the reverse proxies in SERVICEPULSE_TRUSTED_PROXIES every client had
        # the proxy's address, so ten mistyped passwords from anyone locked the whole organisation out of
        # signing in for a minute. Use the same client address as servicepulse's other rate limits.
        address = client_address(request)
        return address if address != "unknown" else super().get_client_ip(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        # Only providers switched on in the environment reach here; what someone may see is their role.
        return True

    def save_user(self, request: HttpRequest, sociallogin: Any, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        role = getattr(settings, "SERVICEPULSE_SSO_DEFAULT_ROLE", "")
        provider = getattr(getattr(sociallogin, "account", None), "provider", "")
        if role in Role.values and provider in organisation_providers() and in_allowed_domains(sociallogin):
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
        return user
