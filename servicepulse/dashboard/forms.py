"""Forms of the signed-in pages. They validate input; the owning app's services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import slugify

from servicepulse.catalog.models import Service
from servicepulse.incidents.models import AlertRule
from servicepulse.incidents.selectors import incident_next_states
from servicepulse.incidents.services import NOTE_MAX_CHARS, alert_rule_check


def is_htmx(request: Any) -> bool:
    """True for requests htmx makes (they get a page fragment instead of the whole page)."""
    return bool(request.headers.get("HX-Request") == "true")


def set_choices(form: forms.Form, name: str, choices: list[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class ServiceForm(forms.Form):
    id = forms.SlugField(
        label="Id", max_length=64, help_text="Short slug used in tags and URLs, e.g. vle", required=False
    )
    name = forms.CharField(max_length=200)
    team = forms.CharField(max_length=200, required=False, help_text="The team that owns the service")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    aliases = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="One per line: the names users call it (moodle, vle, learn)",
    )
    examples = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One per line: posts a user might write about it",
    )
    public = forms.BooleanField(required=False, initial=True, help_text="Show on the public status page")
    sensitivity = forms.FloatField(
        min_value=0.1,
        max_value=10.0,
        initial=1.0,
        help_text="Above 1 alerts earlier; below 1 needs a stronger rise",
    )
    target_score = forms.IntegerField(
        min_value=-100, max_value=100, required=False, help_text="Experience score target (-100 to 100)"
    )

    def __init__(self, *args: Any, editing: Service | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing is not None:
            self.fields["id"].disabled = True
            self.initial.update(
                id=editing.id,
                name=editing.name,
                team=editing.team,
                description=editing.description,
                aliases="\n".join(editing.aliases),
                examples="\n".join(editing.examples),
                public=editing.public,
                sensitivity=editing.sensitivity,
                target_score=editing.target_score,
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.editing is not None:
            data["id"] = self.editing.id
        elif "id" in self.errors or "name" in self.errors:
            pass  # an id or a name that is itself wrong says so beside it; no id is made from it
        else:
            data["id"] = data.get("id") or slugify(data.get("name", ""))
            if not data["id"]:
                self.add_error("id", "Give the service an id or a name that makes one.")
            elif Service.objects.filter(id=data["id"]).exists():
                self.add_error("id", f"A service with the id {data['id']!r} already exists.")
        data["aliases"] = lines(data.get("aliases") or "")
        data["examples"] = lines(data.get("examples") or "")
        return data


class SourceAddForm(forms.Form):
    """Name and kind; the kind's own options are added as fields from the connector's option specs."""

    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField()

    def __init__(self, *args: Any, kinds: dict[str, Any], kind: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "kind", [(k, f"{k} — {cls.description}") for k, cls in kinds.items()])
        self.option_names: list[str] = []
        cls = kinds.get(kind or "")
        for spec in getattr(cls, "options", ()):
            field_name = f"option_{spec.name}"
            widget = forms.PasswordInput(render_value=True) if spec.secret else forms.TextInput()
            self.fields[field_name] = forms.CharField(
                label=spec.name, required=spec.required, help_text=spec.help, widget=widget
            )
            self.option_names.append(spec.name)

    def options(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[f"option_{name}"]
            for name in self.option_names
            if self.cleaned_data.get(f"option_{name}")
        }


INCIDENT_STATES = [
    ("possible", "Possible problem"),
    ("confirmed", "Problem detected"),
    ("resolved", "Resolved"),
]


class IncidentOpenForm(forms.Form):
    """Open an incident by hand, or plan a maintenance window (the incidents app's services do it)."""

    kind = forms.ChoiceField(
        choices=[("manual", "Incident"), ("maintenance", "Planned maintenance")],
        help_text="For the team: detection stays quiet during maintenance and complaints attach to it. "
        "Nothing here is public; to tell users, post on the status page (its maintenance is copied here).",
    )
    service = forms.ChoiceField(choices=[])
    title = forms.CharField(max_length=300)
    start = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Maintenance only: when it ends",
    )
    comment = forms.CharField(required=False, max_length=2000, label="Note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "service", list(Service.objects.values_list("id", "name")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "maintenance" and not data.get("end"):
            self.add_error("end", "A maintenance window needs an end.")
        return data


class IncidentStateForm(forms.Form):
    state = forms.ChoiceField(choices=INCIDENT_STATES, label="New state")
    comment = forms.CharField(required=False, max_length=2000, label="Why (optional)")

    def __init__(self, *args: Any, current: str = "", maintenance: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the changes the incidents service allows from the current state: offering another one would
        # always be refused. Planned maintenance is never a detected problem: it can only be ended.
        labels = {"resolved": "Completed"} if maintenance else dict(INCIDENT_STATES)
        allowed = incident_next_states(state=current, maintenance=maintenance)
        self.labels = {str(s): labels[s] for s in allowed}
        set_choices(self, "state", list(self.labels.items()))

    @property
    def has_choices(self) -> bool:
        return bool(self.labels)

    def state_label(self) -> str:
        return self.labels.get(self.cleaned_data.get("state", ""), "")


class IncidentNoteForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=NOTE_MAX_CHARS,
        label="Note",
        error_messages={
            "required": "Write a note first.",
            "max_length": "A note is at most %(limit_value)d characters (this one has %(show_value)d).",
        },
    )


ALERT_CHANNELS = [
    ("slack", "Slack incoming webhook"),
    ("teams", "Microsoft Teams workflow webhook"),
    ("email", "E-mail"),
    ("webhook", "Signed webhook"),
]


class AlertRuleForm(forms.Form):
    name = forms.CharField(max_length=200)
    channel = forms.ChoiceField(choices=ALERT_CHANNELS)
    target = forms.CharField(
        max_length=2000,
        help_text="Slack or Teams: the https:// webhook address they give you. Signed webhook: your "
        "receiver's http(s) address. E-mail: addresses separated by commas",
    )
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput,
        help_text="Signed webhook only (and required for it): the HMAC-SHA256 signing secret your receiver "
        "checks X-Servicepulse-Signature with",
    )
    services = forms.MultipleChoiceField(
        required=False, help_text="None chosen: every service", widget=forms.CheckboxSelectMultiple
    )
    min_state = forms.ChoiceField(
        choices=[("confirmed", "Problem detected"), ("possible", "Possible problem")], label="Alert from"
    )
    quiet_start = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}), label="Quiet from"
    )
    quiet_end = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}), label="Quiet until"
    )

    def __init__(self, *args: Any, editing: AlertRule | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        set_choices(self, "services", list(Service.objects.values_list("id", "name")))
        if editing is not None:
            self.initial.update(
                name=editing.name,
                channel=editing.channel,
                target=editing.target,
                services=[s.pk for s in editing.services.all()],
                min_state=editing.min_state,
                quiet_start=editing.quiet_start,
                quiet_end=editing.quiet_end,
            )
            if editing.secret:
                self.fields["secret"].help_text = "Leave empty to keep the current signing secret"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not all(name in data for name in ("name", "channel", "target")):
            return data  # those fields' own errors say what is missing
        try:
            # The incidents app's own checks (alert_rule_create makes them again): per-channel targets, the
            # signed webhook's secret, unique names, quiet hours.
            data["target"] = alert_rule_check(
                name=data["name"],
                channel=data["channel"],
                target=data["target"],
                secret=data.get("secret", ""),
                service_ids=data.get("services") or [],
                quiet_start=data.get("quiet_start"),
                quiet_end=data.get("quiet_end"),
                rule=self.editing,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    if field not in self.errors or error not in self.errors[field]:
                        self.add_error(field if field in self.fields else None, error)
        return data
