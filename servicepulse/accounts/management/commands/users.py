"""`servicepulse users list|add|role|deactivate|reactivate`: people and their roles, for headless set-up.

The same rules as the Users page: never deleted, and never without an active admin.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.accounts.roles import Role
from servicepulse.accounts.selectors import Person, mail_kept_locally, person_list
from servicepulse.accounts.services import (
    AccountError,
    user_add,
    user_invite_send,
    user_set_active,
    user_set_role,
)

NO_ROLE = "none"
ROLE_NAMES = [*Role.values, NO_ROLE]


def _role(name: str) -> Role | None:
    return None if name == NO_ROLE else Role(name)


def _user(username: str) -> User:
    user = (
        User.objects.filter(username=username).first()
        or User.objects.filter(username__iexact=username).first()
    )
    if user is None:
        raise CommandError(f"no user called {username!r} (`servicepulse users list` shows them)")
    return user


def _row(person: Person) -> dict[str, Any]:
    return {
        "username": person.username,
        "role": person.role.value if person.role else None,
        "email": person.email,
        "last_login": person.last_login.isoformat(timespec="seconds") if person.last_login else None,
        "active": person.is_active,
    }


class Command(BaseCommand):
    help = "Add people, list them, change their role, deactivate or reactivate them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = sub.add_parser("list", help="everyone: user name, role, e-mail, last sign-in, active")
        listing.add_argument("--json", action="store_true", help="one JSON object per line")

        add = sub.add_parser(
            "add", help="add a person; with --email they are sent a link to choose their password"
        )
        add.add_argument("username", help="their user name (letters, digits and @.+-_)")
        add.add_argument(
            "--role", choices=ROLE_NAMES, required=True, help="what they may do (none: nothing yet)"
        )
        add.add_argument("--email", default="", help="where the link to choose a password goes")

        role = sub.add_parser("role", help="give someone a role (none: no role)")
        role.add_argument("username", help="their user name")
        role.add_argument("role", choices=ROLE_NAMES, help="the new role")

        for action, what in (("deactivate", "stop someone signing in"), ("reactivate", "let them in again")):
            toggle = sub.add_parser(action, help=what)
            toggle.add_argument("username", help="their user name")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "list":
                self._list(as_json=options["json"])
            elif action == "add":
                self._add(options["username"], role=_role(options["role"]), email=options["email"])
            elif action == "role":
                user = user_set_role(user=_user(options["username"]), role=_role(options["role"]))
                self.stdout.write(f"{user.username}: {options['role']}")
            else:
                user = user_set_active(user=_user(options["username"]), active=action == "reactivate")
                self.stdout.write(f"{user.username}: {'active' if user.is_active else 'deactivated'}")
        except AccountError as exc:
            raise CommandError(str(exc)) from None

    def _list(self, *, as_json: bool) -> None:
        for person in person_list():
            row = _row(person)
            if as_json:
                self.stdout.write(json.dumps(row))
            else:
                values = [
                    row["username"],
                    row["role"] or "-",
                    row["email"] or "-",
                    row["last_login"] or "never",
                ]
                self.stdout.write("\t".join([*values, "active" if row["active"] else "deactivated"]))

    def _add(self, username: str, *, role: Role | None, email: str) -> None:
        try:
            user = user_add(username=username, email=email, role=role)
        except ValidationError as exc:
            problems = [f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()]
            raise CommandError("; ".join(problems)) from None
        self.stdout.write(f"added {user.username} ({role.value if role else 'no role'})")
        if not email:
            self.stdout.write(
                f"no e-mail given: set a password with `servicepulse manage changepassword {user.username}`"
            )
            return
        try:
            address = user_invite_send(user=user)
        except OSError as exc:
            raise CommandError(
                f"added {user.username}, but the e-mail could not be sent ({exc}); check the mail settings, then "
                f"send it from the Users page, or set a password with "
                f"`servicepulse manage changepassword {user.username}`"
            ) from None
        if (kept_in := mail_kept_locally()) is not None:
            self.stdout.write(
                f"no mail is sent with these settings: the e-mail to {address} with the link to choose a password "
                f"was written to {kept_in} (set SERVICEPULSE_EMAIL_BACKEND and the SMTP settings to send it "
                "for real)"
            )
            return
        self.stdout.write(f"sent a link to choose a password to {address}")
