from __future__ import annotations

from typing import Any

from django import forms

from servicepulse.core.forms import LocalDateTimeField
from servicepulse.status.models import Impact, IncidentStatus
from servicepulse.status.selectors import component_list


def _component_choices() -> list[tuple[str, str]]:
    return [(s.id, s.name) for s in component_list()]


class SubscribeForm(forms.Form):
    # autocomplete lets a phone offer the person's own address instead of their typing it.
    email = forms.EmailField(
        label="E-mail address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    all_components = forms.BooleanField(label="Every component", required=False)
    components = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, required=False)
    # A honeypot: people leave it empty; form-filling robots do not.
    website = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["components"].choices = _component_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all_components") and not data.get("components"):
            raise forms.ValidationError("Choose at least one component, or every component.")
        return data


# Shown next to the component checkboxes: a browser cannot require "at least one" of a group of checkboxes.
CHOOSE_COMPONENTS = "Choose at least one component."


def _components_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label="Components",
        widget=forms.CheckboxSelectMultiple,
        help_text=CHOOSE_COMPONENTS,
        error_messages={"required": CHOOSE_COMPONENTS},
    )


class IncidentForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    components = _components_field()
    impact = forms.ChoiceField(label="Impact", choices=Impact.choices)
    status = forms.ChoiceField(
        label="Status", choices=IncidentStatus.choices, initial=IncidentStatus.INVESTIGATING
    )
    body = forms.CharField(label="First update", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Both forms share the manage page: distinct ids keep each label pointing at its own field.
        kwargs.setdefault("auto_id", "incident_%s")
        super().__init__(*args, **kwargs)
        self.fields["components"].choices = _component_choices()  # type: ignore[attr-defined]


class UpdateForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=IncidentStatus.choices)
    impact = forms.ChoiceField(label="Impact", choices=Impact.choices)
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 4}))


class MaintenanceForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    components = _components_field()
    # Typed on the organisation's clock, its zone named in the label (core.forms).
    starts_at = LocalDateTimeField(label="Starts at")
    ends_at = LocalDateTimeField(
        label="Ends at", error_messages={"invalid": "Enter a date and time, for example 2026-11-20 23:00."}
    )
    body = forms.CharField(label="Details", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "maintenance_%s")
        super().__init__(*args, **kwargs)
        self.fields["components"].choices = _component_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "The window must end after it starts.")
        return data


class PublishDetectedForm(forms.Form):
    """The drafted title, impact and updates of a detected incident, edited before anything is public."""

    title = forms.CharField(label="Title", max_length=200)
    impact = forms.ChoiceField(label="Impact", choices=Impact.choices)
    body = forms.CharField(
        label="First update",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Posted as “Investigating”; subscribers to the component are e-mailed it.",
    )
    resolved_body = forms.CharField(
        label="Closing update",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Posted as “Resolved” at the time the incident ended; subscribers to the component are "
        "e-mailed it (and only it: the incident is over).",
    )

    def __init__(self, *args: Any, resolved: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not resolved:  # still going on: no closing update yet
            del self.fields["resolved_body"]
        else:  # an incident report: the first update goes on the page at the incident's start, unmailed
            self.fields["body"].help_text = "Posted as “Investigating” at the time the incident began."
