from __future__ import annotations

from typing import Any

from django import forms

from servicepulse.status.models import Impact, IncidentStatus
from servicepulse.status.selectors import component_list


def _component_choices() -> list[tuple[str, str]]:
    return [(s.id, s.name) for s in component_list()]


class SubscribeForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
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


class IncidentForm(forms.Form):
    title = forms.CharField(max_length=200)
    components = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    impact = forms.ChoiceField(choices=Impact.choices)
    status = forms.ChoiceField(choices=IncidentStatus.choices, initial=IncidentStatus.INVESTIGATING)
    body = forms.CharField(label="First update", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["components"].choices = _component_choices()  # type: ignore[attr-defined]


class UpdateForm(forms.Form):
    status = forms.ChoiceField(choices=IncidentStatus.choices)
    impact = forms.ChoiceField(choices=Impact.choices)
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 4}))


class MaintenanceForm(forms.Form):
    title = forms.CharField(max_length=200)
    components = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    starts_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["components"].choices = _component_choices()  # type: ignore[attr-defined]
