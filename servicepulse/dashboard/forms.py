"""Forms of the signed-in pages. They validate input; the owning app's services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import slugify

from servicepulse.catalog.models import Service
from servicepulse.core.forms import LocalDateTimeField
from servicepulse.incidents.models import AlertChannel, AlertRule, IncidentKind, incident_state_label
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


def _add_option_fields(form: forms.Form, cls: Any, *, stored: Any = None) -> list[str]:
    """A field per option of the connector `cls` (`option_<name>`); returns the option names. With `stored`
    (a source being edited), plain options start at their stored value and secret ones empty: a secret left
    empty keeps what is stored, so it is never sent back to the browser."""
    names: list[str] = []
    secrets = set(stored.secrets) if stored is not None and stored.secrets_encrypted else set()
    for spec in getattr(cls, "options", ()):
        field_name = f"option_{spec.name}"
        help_text = spec.help
        if spec.default not in (None, "") and not spec.secret:
            default = str(spec.default).lower() if isinstance(spec.default, bool) else spec.default
            help_text = f"{help_text} (default: {default})"
        widget: forms.Widget
        if spec.secret:
            widget = forms.PasswordInput(render_value=stored is None)
            if stored is not None:
                kept = "set: leave empty to keep it" if spec.name in secrets else "not set"
                help_text = f"{help_text} ({kept})"
        elif spec.multiline:
            widget = forms.Textarea(attrs={"rows": 3})
        else:
            widget = forms.TextInput()
        required = spec.required and not (spec.secret and spec.name in secrets)
        form.fields[field_name] = forms.CharField(
            label=spec.name, required=required, help_text=help_text, widget=widget
        )
        if stored is not None and not spec.secret and spec.name in (stored.options or {}):
            value = stored.options[spec.name]
            if isinstance(value, list):
                value = ("\n" if spec.multiline else ", ").join(map(str, value))
            form.initial[field_name] = value
        names.append(spec.name)
    return names


def option_errors_to_fields(form: forms.Form, exc: Exception) -> None:
    """Show a source error above the form and beside each option it names (`SourceConfigError.problems`), so
    the field is found on a long form (and on a phone)."""
    form.add_error(None, str(exc))
    problems: dict[str, str] = getattr(exc, "problems", {}) or {}
    for name, problem in problems.items():
        if f"option_{name}" in form.fields:
            form.add_error(f"option_{name}", problem[:1].upper() + problem[1:] + ".")


class SourceAddForm(forms.Form):
    """Name and kind; the kind's own options are added as fields from the connector's option specs."""

    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField()

    def __init__(self, *args: Any, kinds: dict[str, Any], kind: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "kind", [(k, f"{k} — {cls.description}") for k, cls in kinds.items()])
        self.description = getattr(kinds.get(kind or ""), "description", "")
        self.option_names = _add_option_fields(self, kinds.get(kind or ""))

    def options(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[f"option_{name}"]
            for name in self.option_names
            if self.cleaned_data.get(f"option_{name}")
        }


class SourceOptionsForm(forms.Form):
    """The options of an existing source; secrets are never shown and, left empty, keep their stored value."""

    def __init__(self, *args: Any, source: Any, connector: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.option_names = _add_option_fields(self, connector, stored=source)
        # An empty secret field keeps the stored value, so forgetting one (a revoked token, replies no longer
        # wanted) takes a box of its own, just below the secret's field.
        stored = set(source.secrets) if source.secrets_encrypted else set()
        self.forgettable = [s.name for s in connector.options if s.secret and s.name in stored]
        order = []
        for name in self.option_names:
            order.append(f"option_{name}")
            if name in self.forgettable:
                self.fields[f"forget_{name}"] = forms.BooleanField(
                    required=False, label=f"Forget the stored {name}"
                )
                order.append(f"forget_{name}")
        self.order_fields(order)

    def options(self) -> dict[str, str]:
        """Every option as typed: an empty plain option goes back to its default, an empty secret is kept."""
        return {name: self.cleaned_data.get(f"option_{name}") or "" for name in self.option_names}

    def forgotten(self) -> list[str]:
        """The stored secrets whose "forget" box is ticked (a new value typed beside one replaces it)."""
        return [name for name in self.forgettable if self.cleaned_data.get(f"forget_{name}")]


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
    # Typed on the organisation's clock, its zone named in the label; a time the clocks repeat or skip is
    # answered in words (core.forms).
    start = LocalDateTimeField(label="Start")
    end = LocalDateTimeField(label="End", required=False, help_text="Maintenance only: when it ends")
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
    state = forms.ChoiceField(
        choices=INCIDENT_STATES, label="New state", error_messages={"required": "Choose a new state."}
    )
    comment = forms.CharField(required=False, max_length=2000, label="Why (optional)")

    def __init__(
        self,
        *args: Any,
        current: str = "",
        maintenance: bool = False,
        upcoming: bool = False,
        manual: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Only the changes the incidents service allows from the current state: offering another one would
        # always be refused. Planned maintenance is never a detected problem: it can only be ended, which
        # before its start means the work is called off (the pages then show it as cancelled).
        if maintenance:
            labels = {"resolved": "Cancelled (it has not started)" if upcoming else "Completed"}
        else:
            # One opened by hand is reopened as an "Incident": nothing was detected.
            kind = IncidentKind.MANUAL if manual else IncidentKind.DETECTED
            labels = {state: incident_state_label(state=state, kind=kind) for state, _ in INCIDENT_STATES}
        allowed = incident_next_states(state=current, maintenance=maintenance)
        self.labels = {str(s): labels[s] for s in allowed}
        # No change is chosen before the responder chooses one: with the first allowed state preselected, one
        # click on the button confirmed a possible problem or reopened a resolved one, alerting everyone.
        set_choices(self, "state", [("", "— choose —"), *self.labels.items()])
        # Reopening a resolved incident is its own deliberate act: a box to tick, saying what follows.
        self.reopening = current == "resolved" and not maintenance and bool(self.labels)
        if self.reopening:
            self.fields["state"].label = "Reopen as"
            self.fields["confirm_reopen"] = forms.BooleanField(
                label="Yes, the problem is back: reopen this incident and alert everyone its alert rules reach",
                error_messages={"required": "Tick the box to reopen the incident: it alerts everyone again."},
            )

    @property
    def has_choices(self) -> bool:
        return bool(self.labels)

    def state_label(self) -> str:
        return self.labels.get(self.cleaned_data.get("state", ""), "")

    def problems(self) -> str:
        """What is wrong with a refused change, in words, for the message the page shows."""
        return " ".join(str(e) for errors in self.errors.values() for e in errors)


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
        # A form sent back with an error keeps what was just typed (never the stored secret: it is no initial).
        widget=forms.PasswordInput(render_value=True),
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
        # Quiet hours are read on the organisation's clock (the server's TIME_ZONE), not the browser's: say
        # which, or someone abroad (or a summer-time change) sets them an hour or more off.
        zone = settings.TIME_ZONE
        self.fields["quiet_start"].label = f"Quiet from ({zone} time)"
        self.fields["quiet_end"].label = f"Quiet until ({zone} time)"
        self.fields["quiet_start"].help_text = (
            f"In the organisation's time zone, {zone}. Alerts due between these times wait until quiet "
            "hours end; leave both empty to alert at any hour"
        )
        if editing is not None:
            if editing.channel == AlertChannel.EMAIL:
                self.initial["target"] = editing.target
            else:
                # A webhook address is a secret: never sent back to the browser, kept when left empty.
                self.fields["target"].required = False
                shown = editing.target_shown
                self.fields["target"].help_text = f"Leave empty to keep the current address ({shown})"
            self.initial.update(
                name=editing.name,
                channel=editing.channel,
                services=[s.pk for s in editing.services.all()],
                min_state=editing.min_state,
                quiet_start=editing.quiet_start,
                quiet_end=editing.quiet_end,
            )
            if editing.secret:
                self.fields["secret"].help_text = "Leave empty to keep the current signing secret"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        editing = self.editing
        if editing is not None and not data.get("target") and "target" not in self.errors:
            if data.get("channel") == editing.channel and editing.channel != AlertChannel.EMAIL:
                data["target"] = editing.target  # left empty: the current (secret) address is kept
            else:
                self.add_error("target", "Give the new channel's address.")
        if not all(name in data for name in ("name", "channel", "target")):
            return data  # those fields' own errors say what is missing
        # A quiet time the field itself refused ("25:00") is not also "only one end given".
        quiet_refused = "quiet_start" in self.errors or "quiet_end" in self.errors
        try:
            # The incidents app's own checks (alert_rule_create makes them again): per-channel targets, the
            # signed webhook's secret, unique names, quiet hours.
            data["target"] = alert_rule_check(
                name=data["name"],
                channel=data["channel"],
                target=data["target"],
                secret=data.get("secret", ""),
                service_ids=data.get("services") or [],
                quiet_start=None if quiet_refused else data.get("quiet_start"),
                quiet_end=None if quiet_refused else data.get("quiet_end"),
                rule=self.editing,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    if field not in self.errors or error not in self.errors[field]:
                        self.add_error(field if field in self.fields else None, error)
        return data
