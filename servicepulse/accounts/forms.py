"""Forms of the Users page. They check input; accounts/services.py does the writing."""

from __future__ import annotations

from django import forms

from servicepulse.accounts.roles import Role
from servicepulse.accounts.services import USERNAME_MAX

NO_ROLE = ""
ROLE_CHOICES = [
    (Role.VIEWER.value, "Viewer: reads every page"),
    (Role.RESPONDER.value, "Responder: also replies, relabels, changes incidents"),
    (Role.ADMIN.value, "Admin: also configures, and manages people"),
    (NO_ROLE, "No role: can sign in, sees nothing"),
]


def role_from(value: str) -> Role | None:
    return Role(value) if value else None


class PersonAddForm(forms.Form):
    username = forms.CharField(
        label="User name",
        max_length=USERNAME_MAX,
        help_text="What they sign in with: letters, digits and @ . + - _",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    email = forms.EmailField(
        label="E-mail",
        help_text="They get a link here to choose their own password",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.VIEWER.value, required=False)


class PersonRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, required=False)
