"""Writing users and roles."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.db import transaction

from servicepulse.accounts.roles import Role


def roles_ensure() -> None:
    """Create the role groups if they are missing."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@transaction.atomic
def user_create(*, username: str, password: str, role: Role, email: str = "") -> User:
    """Create (or update) a user holding exactly `role`."""
    roles_ensure()
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.email = email or user.email
    user.set_password(password)
    user.is_staff = role == Role.ADMIN
    user.save()
    user.groups.set([Group.objects.get(name=role.value)])
    return user
