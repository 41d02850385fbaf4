"""The mentions explorer's filters, bulk relabel and putting a label back. Analysis labels are filtered and
shown through the analysis app's selectors; relabelling stores corrections through its `correction_create`
service, and putting a corrected label back to the models' reading goes through its `correction_revert`."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from servicepulse.analysis.models import CorrectionField
from servicepulse.analysis.selectors import (
    MODEL_LANGUAGES,
    analysis_for_mentions,
    analysis_languages,
    corrections_latest,
    corrections_reverted,
    language_name,
    language_primary,
    mention_filter,
)
from servicepulse.analysis.services import correction_create, correction_revert
from servicepulse.catalog.models import Service
from servicepulse.catalog.selectors import service_resolve
from servicepulse.core.output import spreadsheet_cell
from servicepulse.core.times import local_time_text
from servicepulse.dashboard.forms import set_choices
from servicepulse.dashboard.selectors import live_counts_forget, mention_search_q
from servicepulse.dashboard.services import rollup_refresh_for
from servicepulse.incidents.selectors import incident_list
from servicepulse.incidents.services import incident_recount_for
from servicepulse.mentions.models import Mention
from servicepulse.sources.models import Source

YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
SENTIMENTS = [("", "Any"), ("negative", "Negative"), ("neutral", "Neutral"), ("positive", "Positive")]


class ExplorerFilters(forms.Form):
    q = forms.CharField(label="Search", required=False)
    service = forms.ChoiceField(required=False)
    source = forms.ChoiceField(required=False)
    sentiment = forms.ChoiceField(choices=SENTIMENTS, required=False)
    complaint = forms.ChoiceField(choices=YES_NO, required=False)
    spam = forms.ChoiceField(choices=YES_NO, required=False)
    language = forms.ChoiceField(required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    # The posts attached to one incident (its page links here). Listed only when asked for: a list of every
    # incident would be long and is not how anyone gets here; "Any" in it drops the filter.
    incident = forms.ChoiceField(
        required=False,
        label="Attached to incident",
        error_messages={"invalid_choice": "there is no incident %(value)s"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        asked_incident = str(self.data.get("incident") or "") if self.is_bound else ""
        if not asked_incident:
            del self.fields["incident"]
        else:
            found = incident_choice(incident_id=asked_incident)
            set_choices(self, "incident", [("", "Any"), *([found] if found else [])])
        set_choices(
            self,
            "service",
            [
                ("", "Any"),
                *list(Service.objects.values_list("id", "name")),
            ],
        )
        set_choices(
            self,
            "source",
            [("", "Any")] + [(str(pk), name) for pk, name in Source.objects.values_list("id", "name")],
        )
        languages = [code for code, _ in analysis_languages()]
        asked = str(self.data.get("language") or "") if self.is_bound else ""
        if _LANGUAGE_CODE.fullmatch(asked) and asked not in languages:  # a link from before the list was read
            languages.append(asked)
        set_choices(self, "language", [("", "Any"), *[(code, _language_name(code)) for code in languages]])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:  # gave "0 posts" with no hint why
            self.add_error("until", f"is before From ({since:%-d %b %Y}): no post can be in between")
        return data

    def values(self) -> dict[str, Any]:
        """The filters that were given and are valid; an invalid one is left out (and shown with its error)
        rather than throwing the others away."""
        if not self.is_bound:
            return {}
        self.is_valid()  # cleaned_data then holds the fields that passed
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}

    def ignored(self) -> list[tuple[str, str]]:
        """(label, why) of each filter left out as invalid."""
        if not self.is_bound or self.is_valid():
            return []
        return [
            (str(self[name].label), " ".join(str(e) for e in errors))
            for name, errors in self.errors.items()
            # An incident that is not there is not left out but matches no post: its error is beside it.
            if name in self.fields and name != "incident"
        ]


def _language_name(code: str) -> str:
    """ "Welsh (cy)"; the code alone for a language Django does not name."""
    if code == "und":
        return "No words (und)"
    name = language_name(code)
    return f"{name} ({code})" if name else code


def _bound(day: Any, *, end: bool) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


def incident_choice(*, incident_id: str) -> tuple[str, str] | None:
    """(id, "title — service, started …") of the incident `incident_id` names, or None when there is none."""
    # ASCII digits within a 64-bit key, as for a post's id: anything else is no incident, not a 500.
    if not (incident_id.isascii() and incident_id.isdigit()) or not 0 < int(incident_id) <= MAX_MENTION_ID:
        return None
    incident = incident_list().filter(pk=int(incident_id)).first()
    if incident is None:
        return None
    started = local_time_text(incident.started_at)
    return str(incident.pk), f"{incident.title} — {incident.service.name}, started {started}"


def explorer_queryset(filters: ExplorerFilters) -> QuerySet[Mention]:
    values = filters.values()
    qs = Mention.objects.select_related("source").order_by("-created_at", "-id")
    if "incident" in filters.errors:
        # Exactly the posts of the incident asked for: of an incident that is not there, none (leaving the
        # filter out, as with the others, would list every post as if they were its).
        return qs.none()
    if values.get("incident"):
        qs = qs.filter(incident_attachments__incident_id=int(values["incident"]))
    if values.get("q"):
        qs = qs.filter(mention_search_q(values["q"]))
    if values.get("source"):
        qs = qs.filter(source_id=int(values["source"]))
    if values.get("since"):
        qs = qs.filter(created_at__gte=_bound(values["since"], end=False))
    if values.get("until"):
        qs = qs.filter(created_at__lte=_bound(values["until"], end=True))
    wanted = {k: values[k] for k in ("service", "sentiment", "complaint", "spam", "language") if k in values}
    if wanted:
        qs = mention_filter(
            qs,
            service_id=wanted.get("service"),
            sentiment=wanted.get("sentiment"),
            complaint={"yes": True, "no": False}.get(wanted.get("complaint", "")),
            spam={"yes": True, "no": False}.get(wanted.get("spam", "")),
            language=wanted.get("language"),
        )
    return qs


@dataclass
class ExplorerRow:
    mention: Mention
    analysis: Any = None  # the analysis app's result for this mention, or None
    # Per corrected label (services, complaint, sentiment, spam): who set it, when, and what servicepulse had
    # read, so a wrong correction can be seen, traced and put back.
    corrections: dict[str, str] = dataclasses.field(default_factory=dict)
    # Per label put back to servicepulse's reading (and not corrected since): who put it back, when, and what
    # the correction had said, so the trail stays visible after the undo.
    reverted: dict[str, str] = dataclasses.field(default_factory=dict)
    # For a post in another language than English whose complaint or sentiment is still the models' reading:
    # that the models read English (MODELS.md, "Posts in other languages"), so the reading is to be checked.
    language_note: str = ""


def _language_note(analysis: Any, corrected: dict[str, Any]) -> str:
    language = language_primary(str(getattr(analysis, "language", "") or ""))
    if analysis is None or language in MODEL_LANGUAGES or {"complaint", "sentiment"} <= corrected.keys():
        return ""
    name = _language_name(language)
    return (
        f"{name}: servicepulse's complaint and sentiment models were trained on English posts and read most "
        "posts in other languages as neutral and not complaints. Check the reading and relabel it if wrong."
    )


def _label_words(label: str, value: Any, names: dict[str, str]) -> str:
    if label == "services":
        ids = [v[0] if isinstance(v, list | tuple) else v for v in value or []]
        return ", ".join(names.get(str(i), str(i)) for i in ids) or "no service"
    if label == "complaint":
        return "complaint" if value else "not a complaint"
    if label == "spam":
        return "spam" if value else "not spam"
    return str(value)


def _who(user: Any) -> str:
    return user.get_username() if user is not None else "someone (no account recorded)"


def _label_name(label: str) -> str:
    return str(CorrectionField(label).label) if label in CorrectionField.values else label


def _correction_note(correction: Any, analysis: Any, names: dict[str, str]) -> str:
    label = str(correction.field)
    value = _label_words(label, correction.value, names)
    note = f"{_label_name(label)} set to {value} by {_who(correction.user)}, {local_time_text(correction.created_at)}"
    output = analysis.model_output if analysis is not None else {}
    if label in output:
        note += f" (servicepulse had read: {_label_words(label, output[label], names)})"
    return note


def _reverted_note(correction: Any, names: dict[str, str]) -> str:
    label = str(correction.field)
    value = _label_words(label, correction.value, names)
    return (
        f"{_label_name(label)} put back to servicepulse's reading by {_who(correction.reverted_by)}, "
        f"{local_time_text(correction.reverted_at)} ({_who(correction.user)} had set it to {value})"
    )


def explorer_rows(mentions: list[Mention]) -> list[ExplorerRow]:
    ids = [m.pk for m in mentions]
    results = analysis_for_mentions(mention_ids=ids)
    corrections = corrections_latest(mention_ids=ids)
    reverted = corrections_reverted(mention_ids=ids)
    names = dict(Service.objects.values_list("id", "name")) if corrections or reverted else {}
    return [
        ExplorerRow(
            mention=m,
            analysis=results.get(m.pk),
            corrections={
                label: _correction_note(c, results.get(m.pk), names)
                for label, c in corrections.get(m.pk, {}).items()
            },
            reverted={label: _reverted_note(c, names) for label, c in reverted.get(m.pk, {}).items()},
            language_note=_language_note(results.get(m.pk), corrections.get(m.pk, {})),
        )
        for m in mentions
    ]


class CappedPaginator(Paginator):
    """Counts at most CAP matches, so a page over a million posts never counts them all: past the cap the
    page says "10,000+ posts" and offers the first CAP / per_page pages (narrow the filters for more)."""

    CAP = 10_000
    capped = False

    @cached_property
    def count(self) -> int:
        qs = self.object_list.order_by().select_related(None)  # type: ignore[attr-defined]  # a QuerySet here
        n = int(qs[: self.CAP + 1].count())  # counting needs neither the order nor the joined source
        self.capped = n > self.CAP
        return min(n, self.CAP)


NO_SERVICE = "none"
# The largest id a post can have (its primary key is a 64-bit BigAutoField). A crafted id past it reached the
# database and failed there (SQLite: OverflowError; PostgreSQL: out of range), a 500 instead of a refusal.
MAX_MENTION_ID = 2**63 - 1


def _mention_id(value: str) -> int:
    """A ticked post's id: a positive whole number a post can have (else the form refuses it)."""
    number = int(value)
    if not 0 < number <= MAX_MENTION_ID:
        raise ValueError(f"{value!r} is not a post id")
    return number


class RelabelForm(forms.Form):
    """The label to correct and its new value. Each label has its own control (`complaint`, `sentiment`,
    `spam`, `services`): the page shows the one of the chosen label (all of them without JavaScript) and only
    that one is read. `value`, typed, is the services' names; for the other labels it is still read when
    their own control is left empty (scripts written for the form before it had them)."""

    FIELDS = [
        ("complaint", "Complaint"),
        ("sentiment", "Sentiment"),
        ("spam", "Spam"),
        ("services", "Services"),
    ]
    VALUE_FIELDS = ("complaint", "sentiment", "spam")  # a single value from a list (services: several)
    mention_ids = forms.TypedMultipleChoiceField(
        coerce=_mention_id,
        choices=[],
        label="Posts",
        error_messages={"required": "Tick the posts to relabel."},
    )
    field = forms.ChoiceField(
        choices=FIELDS, label="Label", widget=forms.Select(attrs={"data-relabel-field": ""})
    )
    # Plain text fields drawn as lists: only the chosen label's value is checked, with the messages below.
    complaint = forms.CharField(
        required=False,
        label="Set complaint to",
        widget=forms.Select(
            choices=[("", "— choose —"), ("yes", "Yes: a complaint"), ("no", "No: not a complaint")]
        ),
    )
    sentiment = forms.CharField(
        required=False,
        label="Set sentiment to",
        widget=forms.Select(
            choices=[
                ("", "— choose —"),
                ("negative", "Negative"),
                ("neutral", "Neutral"),
                ("positive", "Positive"),
            ]
        ),
    )
    spam = forms.CharField(
        required=False,
        label="Set spam to",
        widget=forms.Select(choices=[("", "— choose —"), ("yes", "Yes: spam"), ("no", "No: not spam")]),
    )
    services = forms.MultipleChoiceField(
        required=False,
        label="Set services to",
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="Ctrl or ⌘ to choose several, or “No service” to clear them.",
    )
    value = forms.CharField(
        max_length=300,
        required=False,
        label="Or type their names",
        help_text="Names, ids or aliases, separated by ;",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "relabel_%s")  # the explorer's filters beside it have their own id_*
        super().__init__(*args, **kwargs)
        set_choices(
            self,
            "services",
            [(NO_SERVICE, "— No service —"), *Service.objects.values_list("id", "name")],
        )
        if self.is_bound:
            ids = self.data.getlist("mention_ids") if hasattr(self.data, "getlist") else []
            set_choices(self, "mention_ids", [(i, i) for i in ids])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        field = data.get("field")
        if field in self.VALUE_FIELDS:
            chosen = (data.get(field) or "").strip().lower()
            typed = (data.get("value") or "").strip().lower()
            # The error goes beside the control the value came from.
            where, raw = (field, chosen) if chosen or not typed else ("value", typed)
            if field == "sentiment":
                if raw not in ("negative", "neutral", "positive"):
                    self.add_error(where, "Say negative, neutral or positive.")
                data["parsed"] = raw
            else:
                if raw not in ("yes", "no", "true", "false", "1", "0"):
                    self.add_error(where, "Say yes or no.")
                data["parsed"] = raw in ("yes", "true", "1")
        elif field == "services":
            typed = (data.get("value") or "").strip()
            data["parsed"] = self._services(chosen=list(data.get("services") or []), typed=typed)
        return data

    def _services(self, *, chosen: list[str], typed: str) -> list[str]:
        """The service ids to set: chosen in the list, or typed as names, ids or aliases; [] for none."""
        if chosen and typed:
            self.add_error("value", "Choose the services in the list or type them here, not both.")
            return []
        if chosen:
            if NO_SERVICE in chosen and len(chosen) > 1:
                self.add_error("services", "Choose services, or “No service”, not both.")
            return [] if NO_SERVICE in chosen else chosen
        if not typed:
            self.add_error("services", "Choose the services to set, or “No service” to clear them.")
            return []
        if typed.lower() in (NO_SERVICE, "no service", "-"):
            return []
        # A name is tried whole first (names may hold commas), then as a list separated by ; or ,.
        ids, unknown = service_resolve(terms=[typed])
        if unknown:
            ids, unknown = service_resolve(terms=[t for t in typed.replace(",", ";").split(";") if t.strip()])
        if unknown:
            self.add_error(
                "value",
                f"No service is called {', '.join(repr(t) for t in unknown)}; choose them in the Services "
                "list, or type their names separated by ;.",
            )
        return ids


def apply_relabel(*, form: RelabelForm, user: Any) -> int:
    """Store one correction per chosen mention through the analysis app's correction service."""
    ids = form.cleaned_data["mention_ids"]
    mentions = Mention.objects.filter(pk__in=ids)
    changed = 0
    with transaction.atomic():  # all chosen posts or none
        for mention in mentions:
            correction_create(
                mention=mention,
                field=form.cleaned_data["field"],
                value=form.cleaned_data["parsed"],
                user=user,
            )
            changed += 1
        # Finished days already in the board's rollup are recounted: the board shows the correction at once.
        rollup_refresh_for(moments=[m.created_at for m in mentions])
        # Incidents the posts are attached to count only the people whose posts still read as complaints.
        incident_recount_for(mention_ids=ids)
    live_counts_forget()
    return changed


def apply_revert(*, mention_id: int, field: str, user: Any) -> int | None:
    """Put one corrected label of one post back to the models' reading through the analysis app's
    `correction_revert`, and let the board, the cached counts and themes and the incidents the post is
    attached to follow at once, as after a relabel. Returns how many corrections were put back (0: none was
    in force), or None when the post no longer exists."""
    with transaction.atomic():
        mention = Mention.objects.filter(pk=mention_id).first()
        if mention is None:
            return None
        reverted = correction_revert(mention=mention, field=field, user=user)
        if reverted:
            rollup_refresh_for(moments=[mention.created_at])
            incident_recount_for(mention_ids=[mention.pk])
    if reverted:
        live_counts_forget()
    return reverted


EXPORT_CAP = 50_000  # rows in one download, newest first (narrow the filters for older ones)
EXPORT_BATCH = 500
EXPORT_COLUMNS = [
    "id",
    "created_at",
    "source",
    "author",
    "url",
    "text",
    "services",
    "complaint",
    "sentiment",
    "spam",
]


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def explorer_export_rows(filters: ExplorerFilters) -> Iterator[list[str]]:
    """The posts the explorer shows for `filters` (the same filters, the same order, at most EXPORT_CAP), one
    CSV row each with how servicepulse reads it (corrections included), the header first. Read in batches,
    so a long export never holds every post and its analysis at once."""
    yield EXPORT_COLUMNS
    batch: list[Mention] = []
    for mention in explorer_queryset(filters)[:EXPORT_CAP].iterator(chunk_size=EXPORT_BATCH):
        batch.append(mention)
        if len(batch) == EXPORT_BATCH:
            yield from _export_batch(batch)
            batch = []
    if batch:
        yield from _export_batch(batch)


def _export_batch(mentions: list[Mention]) -> Iterator[list[str]]:
    results = analysis_for_mentions(mention_ids=[m.pk for m in mentions])
    for m in mentions:
        a = results.get(m.pk)
        yield [
            str(m.pk),
            timezone.localtime(m.created_at).isoformat(),
            spreadsheet_cell(m.source.name),
            spreadsheet_cell(m.author or ""),
            spreadsheet_cell(m.url or ""),
            spreadsheet_cell(m.text),
            spreadsheet_cell("; ".join(tag.service.name for tag in a.tags.all()) if a is not None else ""),
            _yes_no(a.complaint if a is not None else None),
            a.sentiment if a is not None else "",
            _yes_no(a.spam if a is not None else None),
        ]
