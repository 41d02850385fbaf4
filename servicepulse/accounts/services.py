"""Writing users, roles and the site's name.

Every change to who holds the admin role, or who may sign in, runs in a transaction that first locks the admin
group's row: two admins acting at the same moment are served one after the other, so they cannot together
leave the organisation without an active admin. People are never deleted (incident activity, notes, replies and
blog posts point at them): they are deactivated, and can be reactivated.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.sites.models import Site
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q
from django.urls import reverse

from servicepulse.accounts.roles import Role, user_role

INVITATION_TEMPLATE = "accounts/email/invitation"
USERNAME_MAX = 150  # django.contrib.auth's User.username


class AccountError(ValueError):
    """A change to a person's account that servicepulse refuses, with the reason to show."""


def roles_ensure() -> None:
    """Create the role groups if they are missing."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@transaction.atomic
def user_create(*, username: str, password: str, role: Role, email: str = "") -> User:
    """Create (or update) a user holding exactly `role`, with a password (the demo's people, tests)."""
    roles_ensure()
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.email = email or user.email
    user.set_password(password)
    user.is_staff = role == Role.ADMIN
    user.save()
    user.groups.set([Group.objects.get(name=role.value)])
    return user


def _lock_admins() -> None:
    """Serialise every change that could remove an admin (see the module's docstring)."""
    roles_ensure()
    Group.objects.select_for_update().get(name=Role.ADMIN.value)


def _is_active_admin(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.groups.filter(name=Role.ADMIN.value).exists())


def _another_active_admin(user: User) -> bool:
    admins = User.objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(groups__name=Role.ADMIN.value)
    )
    return admins.exclude(pk=user.pk).exists()


def _set_role_groups(user: User, role: Role | None) -> None:
    role_groups = Group.objects.filter(name__in=Role.values)
    user.groups.remove(*role_groups)
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    user.is_staff = role == Role.ADMIN
    user.save(update_fields=["is_staff"])
    user.__dict__.pop("_servicepulse_role", None)  # user_role's per-request memory


@transaction.atomic
def user_add(*, username: str, email: str, role: Role | None) -> User:
    """Add a person who signs in with a password they set themselves: the account has no usable password until
    they follow the invitation (`user_invite_send`). Raises ValidationError naming the field at fault."""
    username = username.strip()
    email = email.strip()
    errors: dict[str, str] = {}
    if not 1 <= len(username) <= USERNAME_MAX:
        errors["username"] = f"Enter a user name of 1 to {USERNAME_MAX} characters."
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError as exc:
            errors["username"] = exc.messages[0]
        else:
            if User.objects.filter(username__iexact=username).exists():
                errors["username"] = f"There is already someone called {username} (user names ignore case)."
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "Enter a valid e-mail address."
        else:
            if _email_taken(email):
                errors["email"] = "Someone already has this e-mail address (it must name one person)."
    if errors:
        raise ValidationError(errors)
    roles_ensure()
    user = User(username=username, email=email)
    user.set_unusable_password()
    user.save()
    _set_role_groups(user, role)
    return user


def _email_taken(email: str) -> bool:
    from allauth.account.models import EmailAddress

    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )


@transaction.atomic
def user_set_role(*, user: User, role: Role | None, by: User | None = None) -> User:
    """Give `user` exactly `role` (None: no role; they can sign in but see nothing until given one).

    Refused (AccountError) when an admin would remove their own admin role, when it would leave no active
    admin, and for superusers, who are admins whatever their groups."""
    _lock_admins()
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_superuser and role != Role.ADMIN:
        raise AccountError(f"{user.username} is a superuser: an admin whatever role they are given here.")
    if role != Role.ADMIN and _is_active_admin(user):
        if by is not None and by.pk == user.pk:
            raise AccountError("You cannot remove your own admin role: ask another admin to do it.")
        if not _another_active_admin(user):
            raise AccountError(f"{user.username} is the only active admin: make someone else an admin first.")
    _set_role_groups(user, role)
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, by: User | None = None) -> User:
    """Let `user` sign in again, or stop them (they are signed out at their next request; what they did stays).

    Refused (AccountError) when admins would deactivate themselves, or the last active admin."""
    _lock_admins()
    user = User.objects.select_for_update().get(pk=user.pk)
    if not active:
        if by is not None and by.pk == user.pk:
            raise AccountError("You cannot deactivate yourself: ask another admin to do it.")
        if _is_active_admin(user) and not _another_active_admin(user):
            raise AccountError(f"{user.username} is the only active admin: make someone else an admin first.")
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user


def user_invite_send(*, user: User) -> str:
    """E-mail `user` a link to choose their password (allauth's password-reset-from-key page), valid once and
    for PASSWORD_RESET_TIMEOUT; returns the address written to. Mail errors (OSError) reach the caller."""
    from allauth.account.adapter import get_adapter
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    if not user.is_active:
        raise AccountError(f"{user.username} is deactivated: reactivate them first.")
    if not user.email:
        raise AccountError(f"{user.username} has no e-mail address to send the link to.")
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    context = {
        "user": user,
        "set_password_url": f"{settings.BASE_URL}{path}",
        "sign_in_url": f"{settings.BASE_URL}{reverse('account_login')}",
        "organisation": settings.SERVICEPULSE_ORGANISATION,
        "role": user_role(user),
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    get_adapter().send_mail(INVITATION_TEMPLATE, user.email, context)
    return user.email


def site_sync(*, using: str = DEFAULT_DB_ALIAS) -> Site:
    """Keep django.contrib.sites' Site in step with the settings: its name is SERVICEPULSE_ORGANISATION and its
    domain SERVICEPULSE_BASE_URL's host. allauth writes them into e-mails ("[Northgate University] ...") and
    into links made without a request. Run after every `migrate` (apps.py), which `servicepulse run` does at
    each start."""
    domain = urlsplit(settings.BASE_URL).netloc or "localhost"
    site, _ = Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": domain[:100], "name": settings.SERVICEPULSE_ORGANISATION[:50]},
    )
    return site
