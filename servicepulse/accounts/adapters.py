"""django-allauth adapters: people who arrive through single sign-on get the configured default role."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth.models import Group
from django.http import HttpRequest

from servicepulse.accounts.roles import Role


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def save_user(self, request: HttpRequest, sociallogin: Any, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        role = getattr(settings, "SERVICEPULSE_SSO_DEFAULT_ROLE", "")
        if role in Role.values:
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
        return user
