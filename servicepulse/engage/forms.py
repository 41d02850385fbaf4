from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

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


class _StateField(forms.ChoiceField):
    def validate(self, value: Any) -> None:
        if value == CaseState.REPLIED and not self.valid_value(value):
            raise ValidationError(
                "A case becomes replied only when an answer is logged: send a reply, or, if the person was "
                "answered another way, record it under “Answered elsewhere”.",
                code="replied_by_hand",
            )
        super().validate(value)


class StateForm(forms.Form):
    """Moving a case by hand.

    "Replied" is not offered: set by hand it would make the inbox show the person as answered while no
    answer was logged (and the response times, which count only logged answers, would disagree with it).
    An answer given outside servicepulse is recorded under "Answered elsewhere", which logs it and moves
    the case. "Replied" is listed only while it is the case's current state, so the form shows where the
    case is and choosing it again changes nothing.
    """

    state = _StateField(label="State")

    def __init__(self, *args: Any, current: str = CaseState.NEW, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [  # type: ignore[attr-defined]
            (value, label)
            for value, label in CaseState.choices
            if value != CaseState.REPLIED or current == CaseState.REPLIED
        ]


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
    # The incident's status when the page was drawn: the message was written for it, so a send after the
    # incident moved on (resolved in another tab, say) is stopped instead of telling people the old news.
    status = forms.CharField(required=False, widget=forms.HiddenInput)
