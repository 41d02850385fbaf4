from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from servicepulse.accounts.roles import Role
from servicepulse.engage.models import CaseState, SavedReply
from servicepulse.engage.selectors import team_choices


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, label="Person"
    )
    team = forms.ChoiceField(required=False, label="Team")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = (
            get_user_model()
            .objects.filter(is_active=True, groups__name__in=[Role.RESPONDER.value, Role.ADMIN.value])
            .distinct()
            .order_by("username")
        )
        self.fields["assignee"].queryset = users  # type: ignore[attr-defined]
        self.fields["team"].choices = [("", "—"), *[(t, t) for t in team_choices()]]  # type: ignore[attr-defined]


class StateForm(forms.Form):
    state = forms.ChoiceField(choices=CaseState.choices)


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Internal note")


class ReplyForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Reply")
    # The latest answer on the case when the page was drawn (0: none), so a reply written while a colleague
    # answered is stopped instead of reaching the person as a second answer.
    seen = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class SavedReplyForm(forms.ModelForm):
    class Meta:
        model = SavedReply
        fields = ["title", "body"]
        help_texts = {"body": "Placeholders: {author}, {service}, {status_url}"}
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}


class LoopForm(forms.Form):
    template = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Message")
