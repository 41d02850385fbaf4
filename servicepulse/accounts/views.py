"""The Users page (admin): who has an account, their role, when they last signed in; add people, change
roles, deactivate and reactivate. The writing is in accounts/services.py; these views only route."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from servicepulse.accounts.forms import PersonAddForm, PersonRoleForm, role_from
from servicepulse.accounts.roles import Role, role_required
from servicepulse.accounts.selectors import Person, mail_kept_locally, person_get, person_list
from servicepulse.accounts.services import (
    AccountError,
    user_add,
    user_invite_send,
    user_set_active,
    user_set_role,
)

PERSON_ACTIONS = ("role", "deactivate", "reactivate", "invite")


def _invite(request: HttpRequest, person: Person) -> None:
    try:
        address = user_invite_send(user=person.user)
    except AccountError as exc:
        messages.error(request, str(exc))
    except OSError as exc:  # smtplib's errors are OSErrors: the mail server refused or could not be reached
        messages.error(
            request,
            f"The e-mail to {person.email} could not be sent ({exc.__class__.__name__}); "
            "check the mail settings, then send it again from here.",
        )
    else:
        if (kept_in := mail_kept_locally()) is not None:
            messages.warning(
                request,
                f"No mail is sent with these settings: the e-mail to {address} with {person.username}'s link to "
                f"choose a password was written to {kept_in}. Set SERVICEPULSE_EMAIL_BACKEND and the SMTP "
                "settings to send it for real.",
            )
            return
        messages.success(request, f"Sent {person.username} a link to choose their password, to {address}.")


@role_required(Role.ADMIN)
def people(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/people.html", {"people": person_list()})


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def person_add(request: HttpRequest) -> HttpResponse:
    form = PersonAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_add(username=data["username"], email=data["email"], role=role_from(data["role"]))
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            added = person_get(user_id=user.pk)
            assert added is not None
            messages.success(request, f"Added {user.username}.")
            _invite(request, added)
            return redirect("accounts:person", user_id=user.pk)
    valid_days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    return render(request, "accounts/person_add.html", {"form": form, "valid_days": valid_days})


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def person_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    person = person_get(user_id=user_id)
    if person is None:
        raise Http404("no such person")
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action and action not in PERSON_ACTIONS:
        messages.error(request, "Unknown action.")
        return redirect("accounts:person", user_id=user_id)
    form = PersonRoleForm(
        request.POST if action == "role" else None,
        initial={"role": person.role.value if person.role else ""},
    )
    if action == "role" and form.is_valid():
        role = role_from(form.cleaned_data["role"])
        try:
            user_set_role(user=person.user, role=role, by=request.user)  # type: ignore[arg-type]
        except AccountError as exc:
            messages.error(request, str(exc))
        else:
            label = f"the {role.label} role" if role else "no role"
            messages.success(request, f"{person.username} now has {label}.")
        return redirect("accounts:person", user_id=user_id)
    if action in ("deactivate", "reactivate"):
        active = action == "reactivate"
        try:
            user_set_active(user=person.user, active=active, by=request.user)  # type: ignore[arg-type]
        except AccountError as exc:
            messages.error(request, str(exc))
        else:
            if active:
                messages.success(request, f"Reactivated {person.username}: they can sign in again.")
            else:
                messages.success(
                    request,
                    f"Deactivated {person.username}: they cannot sign in any more, and what they did stays. "
                    "Reactivate them to undo this.",
                )
        return redirect("accounts:person", user_id=user_id)
    if action == "invite":
        _invite(request, person)
        return redirect("accounts:person", user_id=user_id)
    is_self = person.pk == request.user.pk
    return render(request, "accounts/person.html", {"person": person, "form": form, "is_self": is_self})
