"""Reading people and their roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User

from servicepulse.accounts.roles import RANK, Role

PROVIDER_NAMES = {"microsoft": "Microsoft", "google": "Google", "github": "GitHub"}


@dataclass(frozen=True)
class Person:
    """A user as the Users page shows them."""

    user: User
    role: Role | None
    sso_providers: tuple[str, ...]

    @property
    def pk(self) -> int:
        return self.user.pk

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def is_active(self) -> bool:
        return self.user.is_active

    @property
    def last_login(self) -> datetime | None:
        return self.user.last_login

    @property
    def is_superuser(self) -> bool:
        return self.user.is_superuser

    @property
    def sign_in(self) -> str:
        """How they sign in: with a password, through single sign-on, or not yet (invited, no password)."""
        ways = [*(["password"] if self.user.has_usable_password() else []), *self.sso_providers]
        return ", ".join(ways) if ways else "not yet (no password set)"


def _person(user: User) -> Person:
    names = {group.name for group in user.groups.all()}
    held = [role for role in Role if role.value in names]
    role = Role.ADMIN if user.is_superuser else max(held, key=lambda r: RANK[r], default=None)
    ids = {account.provider for account in user.socialaccount_set.all()}  # type: ignore[attr-defined]
    providers = tuple(sorted(PROVIDER_NAMES.get(i, f"single sign-on ({i})") for i in ids))
    return Person(user=user, role=role, sso_providers=providers)


def person_list() -> list[Person]:
    """Everyone with an account, active first, by user name (a constant number of queries)."""
    users = User.objects.prefetch_related("groups", "socialaccount_set").order_by("-is_active", "username")
    return [_person(user) for user in users]


def person_get(*, user_id: int) -> Person | None:
    user = User.objects.prefetch_related("groups", "socialaccount_set").filter(pk=user_id).first()
    return _person(user) if user is not None else None


def mail_kept_locally() -> str | None:
    """Where e-mails go instead of a mailbox with the laptop default (the dev settings write them to files),
    so "sent" is not claimed for an e-mail nobody will receive; None when they are really sent."""
    if settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
        return str(getattr(settings, "EMAIL_FILE_PATH", ""))  # only the dev settings define it
    return None
