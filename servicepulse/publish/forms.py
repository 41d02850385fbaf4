"""The cross-posting pages' forms: what a browser may send, checked before anything is looked up or saved."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from servicepulse.core.forms import LocalDateTimeField
from servicepulse.publish.crosspost import TargetError, subreddit_name
from servicepulse.publish.models import CrossPostTarget
from servicepulse.publish.networks import NETWORKS
from servicepulse.sources.models import Source


def errors_text(form: forms.Form) -> str:
    """A form's errors as one line: "account: Select a valid choice. …"."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        text = " ".join(str(e) for e in errors)
        parts.append(f"{label or name}: {text}" if name != NON_FIELD_ERRORS else text)
    return "; ".join(parts)


class CrossPostTargetForm(forms.Form):
    """One account's row on the accounts page."""

    network = forms.ChoiceField(label="network", choices=[(kind, n.label) for kind, n in NETWORKS.items()])
    source = forms.ModelChoiceField(
        label="account", queryset=Source.objects.filter(kind__in=list(NETWORKS)), required=False
    )
    enabled = forms.BooleanField(label="enabled", required=False)
    mode = forms.ChoiceField(label="mode", choices=CrossPostTarget.Mode.choices, required=False)
    subreddit = forms.CharField(label="subreddit", required=False, max_length=100)

    def clean_mode(self) -> str:
        return self.cleaned_data.get("mode") or CrossPostTarget.Mode.REVIEW

    def clean_subreddit(self) -> str:
        try:
            return subreddit_name(self.cleaned_data.get("subreddit") or "")
        except TargetError as exc:
            raise forms.ValidationError(str(exc)) from None

    def row_key(self) -> int | str | None:
        """The row of the accounts page this form came from (a source's id, or "linkedin"); None when the
        account it names is not one (a tampered form)."""
        if "source" in self.errors or "network" in self.errors:
            return None
        source = self.cleaned_data.get("source")
        if source is not None:
            return int(source.pk)
        return "linkedin" if self.cleaned_data.get("network") == "linkedin" else None

    def shown_values(self) -> dict[str, Any]:
        """What the row shows again after a refusal: the values as they were sent."""
        return {
            "enabled": bool(self["enabled"].value()),
            "mode": self.data.get("mode") or CrossPostTarget.Mode.REVIEW,
            "subreddit": self.data.get("subreddit", ""),
        }

    def target_options(self) -> dict[str, Any] | None:
        """The options to store: a Reddit row always sends its subreddit field (empty clears it); other rows
        have no options to change."""
        if self.cleaned_data["network"] == "reddit" and "subreddit" in self.data:
            return {"subreddit": self.cleaned_data["subreddit"]}
        return None


class CrossPostActionForm(forms.Form):
    """A button on a post's cross-posting page: the ids it names are whole numbers or the form is refused."""

    action = forms.ChoiceField(
        label="action",
        choices=[(a, a) for a in ("draft", "postback", "save", "send", "schedule", "retry", "discard")],
    )
    crosspost = forms.IntegerField(label="copy", required=False, min_value=1)
    comment = forms.IntegerField(label="comment", required=False, min_value=1)
    text = forms.CharField(label="text", required=False, strip=False)
    send_at = LocalDateTimeField(label="send at", required=False)  # on the organisation's clock

    def clean_text(self) -> str | None:
        """None when the form had no text field (a button outside the copy's form), "" when it was emptied."""
        return self.cleaned_data.get("text", "") if "text" in self.data else None
