"""Roles: admin > responder > viewer. Each signed-in page states the least role it needs.

A role is a Django group of the same name; superusers count as admins. Views use `RoleRequiredMixin`
(class-based) or `@role_required(Role.X)` (functions); both send anonymous users to sign in and answer
403 to signed-in users below the role.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ClassVar, cast

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    RESPONDER = "responder", "Responder"
    ADMIN = "admin", "Admin"


RANK = {Role.VIEWER: 1, Role.RESPONDER: 2, Role.ADMIN: 3}


def user_role(user: AbstractBaseUser | AnonymousUser) -> Role | None:
    """The highest role the user holds, or None."""
    if not user.is_authenticated:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    cache = getattr(user, "_servicepulse_role", "unset")
    if cache != "unset":
        return cast(Role | None, cache)
    names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
    best: Role | None = None
    for role in Role:
        if role.value in names and (best is None or RANK[role] > RANK[best]):
            best = role
    setattr(user, "_servicepulse_role", best)  # noqa: B010 (remembered on the user object for this request)
    return best


def has_role(user: AbstractBaseUser | AnonymousUser, needed: Role) -> bool:
    role = user_role(user)
    return role is not None and RANK[role] >= RANK[needed]


def role_required(needed: Role) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, needed):
                raise PermissionDenied(f"this page needs the {needed.label} role")
            return view(request, *args, **kwargs)

        wrapped.required_role = needed  # type: ignore[attr-defined]
        return wrapped

    return decorator


class RoleRequiredMixin(AccessMixin):
    required_role: ClassVar[Role] = Role.VIEWER

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, self.required_role):
            raise PermissionDenied(f"this page needs the {self.required_role.label} role")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
