"""The mentions explorer's filters and bulk relabel. Analysis labels are filtered and shown through the
analysis app's selectors; relabelling stores corrections through its `correction_create` service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from servicepulse.analysis.selectors import analysis_for_mentions, mention_filter
from servicepulse.analysis.services import correction_create
from servicepulse.catalog.models import Service
from servicepulse.dashboard.forms import set_choices
from servicepulse.dashboard.selectors import live_counts_forget, mention_search_q
from servicepulse.dashboard.services import rollup_refresh_for
from servicepulse.mentions.models import Mention
from servicepulse.sources.models import Source

YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
SENTIMENTS = [("", "Any"), ("negative", "Negative"), ("neutral", "Neutral"), ("positive", "Positive")]


class ExplorerFilters(forms.Form):
    q = forms.CharField(label="Search", required=False)
    service = forms.ChoiceField(required=False)
    source = forms.ChoiceField(required=False)
    sentiment = forms.ChoiceField(choices=SENTIMENTS, required=False)
    complaint = forms.ChoiceField(choices=YES_NO, required=False)
    spam = forms.ChoiceField(choices=YES_NO, required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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

    def values(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}


def _bound(day: Any, *, end: bool) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


def explorer_queryset(filters: ExplorerFilters) -> QuerySet[Mention]:
    values = filters.values()
    qs = Mention.objects.select_related("source").order_by("-created_at", "-id")
    if values.get("q"):
        qs = qs.filter(mention_search_q(values["q"]))
    if values.get("source"):
        qs = qs.filter(source_id=int(values["source"]))
    if values.get("since"):
        qs = qs.filter(created_at__gte=_bound(values["since"], end=False))
    if values.get("until"):
        qs = qs.filter(created_at__lte=_bound(values["until"], end=True))
    wanted = {k: values[k] for k in ("service", "sentiment", "complaint", "spam") if k in values}
    if wanted:
        qs = mention_filter(
            qs,
            service_id=wanted.get("service"),
            sentiment=wanted.get("sentiment"),
            complaint={"yes": True, "no": False}.get(wanted.get("complaint", "")),
            spam={"yes": True, "no": False}.get(wanted.get("spam", "")),
        )
    return qs


@dataclass
class ExplorerRow:
    mention: Mention
    analysis: Any = None  # the analysis app's result for this mention, or None


def explorer_rows(mentions: list[Mention]) -> list[ExplorerRow]:
    results = analysis_for_mentions(mention_ids=[m.pk for m in mentions])
    return [ExplorerRow(mention=m, analysis=results.get(m.pk)) for m in mentions]


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


class RelabelForm(forms.Form):
    FIELDS = [
        ("complaint", "Complaint"),
        ("sentiment", "Sentiment"),
        ("spam", "Spam"),
        ("services", "Services"),
    ]
    mention_ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], label="Posts")
    field = forms.ChoiceField(choices=FIELDS, label="Label")
    value = forms.CharField(
        max_length=300,
        label="Set to",
        help_text="yes/no for complaint and spam; negative/neutral/positive; service ids separated by ;",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound:
            ids = self.data.getlist("mention_ids") if hasattr(self.data, "getlist") else []
            set_choices(self, "mention_ids", [(i, i) for i in ids])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        field, raw = data.get("field"), (data.get("value") or "").strip().lower()
        if field in ("complaint", "spam"):
            if raw not in ("yes", "no", "true", "false", "1", "0"):
                self.add_error("value", "Say yes or no.")
            data["parsed"] = raw in ("yes", "true", "1")
        elif field == "sentiment":
            if raw not in ("negative", "neutral", "positive"):
                self.add_error("value", "Say negative, neutral or positive.")
            data["parsed"] = raw
        elif field == "services":
            ids = [s.strip() for s in raw.replace(",", ";").split(";") if s.strip()]
            unknown = sorted(set(ids) - set(Service.objects.filter(id__in=ids).values_list("id", flat=True)))
            if unknown:
                self.add_error("value", f"Unknown service id(s): {', '.join(unknown)}")
            data["parsed"] = ids
        return data


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
    live_counts_forget()
    return changed
