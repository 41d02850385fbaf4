"""What the inbox and the closed loop need from the apps upstream (analysis, incidents), in one place.

Each function reads the other app's models or selectors; while those are not there (a partial install, or an
app still being built) it falls back to the documented default: every mention wants a response, no service
is known, and no complaint is attached.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Q

from servicepulse.mentions.models import Mention


def _analysis_models() -> tuple[Any, Any] | None:
    """(MentionAnalysis, ServiceTag) when the analysis app's models are installed, else None."""
    try:
        return apps.get_model("analysis", "MentionAnalysis"), apps.get_model("analysis", "ServiceTag")
    except LookupError:
        return None


def _analysis_selector(name: str) -> Any:
    """A function from the analysis app's selectors, or None when the app (or that function) is absent."""
    try:
        module = importlib.import_module("servicepulse.analysis.selectors")
    except ModuleNotFoundError as exc:
        if exc.name and "servicepulse.analysis.selectors".startswith(exc.name):
            return None
        raise
    return getattr(module, name, None)


def wants_response_q() -> Q:
    """Mentions that want a response: not spam, and a complaint or a question. A mention the analysis has
    not reached yet counts (better a spam post in the inbox for a minute than a complaint missed)."""
    selector = _analysis_selector("wants_response_q")
    if selector is not None:
        return selector()  # type: ignore[no-any-return]
    if _analysis_models() is None:
        return Q()
    return Q(analysis__isnull=True) | (
        Q(analysis__spam=False) & (Q(analysis__complaint=True) | Q(text__contains="?"))
    )


def service_q(service_id: str) -> Q:
    """Mentions tagged to `service_id` by the analysis."""
    models = _analysis_models()
    if models is None:
        return Q(pk__in=[])
    _, service_tag = models
    return Q(pk__in=service_tag.objects.filter(service_id=service_id).values("analysis_id"))


def service_id_for(*, mention: Mention) -> str | None:
    """The analysis's best service for a mention, if any."""
    models = _analysis_models()
    if models is None:
        return None
    _, service_tag = models
    return (
        service_tag.objects.filter(analysis_id=mention.pk)
        .order_by("rank")
        .values_list("service_id", flat=True)
        .first()
    )


def detected_incident_mention_ids(*, incident_id: int) -> list[int]:
    """Ids of the complaint mentions attached to a detected incident."""
    from servicepulse.status.upstream import detected_incident_mention_ids as attached

    return attached(incident_id=incident_id)


@dataclass(frozen=True)
class Complaint:
    mention_id: int
    text: str
    author_key: str
    service_ids: tuple[str, ...]


def _analysed_posts_reader() -> Any:
    return _analysis_selector("analysed_posts")


def complaints_between(*, since: datetime, until: datetime) -> list[Complaint]:
    """Complaints (not spam) posted in [since, until), with their services.

    Through the analysis app's `analysed_posts` (the contract the incidents app reads too); without it,
    every mention counts, with the service of its inbox case or of the detected incident it is attached to.
    """
    reader = _analysed_posts_reader()
    if reader is not None:
        out = []
        for row in reader(since=since, until=until, service_ids=None):
            get = (
                row.get
                if isinstance(row, dict)
                else lambda name, default=None, r=row: getattr(r, name, default)
            )
            if get("spam", False) or not get("complaint", False):
                continue
            out.append(
                Complaint(
                    mention_id=int(get("mention_id") or 0),
                    text=str(get("text", "") or ""),
                    author_key=str(get("author_key", "") or ""),
                    service_ids=tuple(get("service_ids", ()) or ()),
                )
            )
        return out
    models = _analysis_models()
    if models is not None:
        analysis, _ = models
        rows = (
            analysis.objects.filter(created_at__gte=since, created_at__lt=until, complaint=True, spam=False)
            .select_related("mention")
            .prefetch_related("tags")
        )
        return [
            Complaint(
                mention_id=row.mention_id,
                text=row.mention.text,
                author_key=row.mention.author_key,
                service_ids=tuple(row.service_ids),
            )
            for row in rows
        ]
    from servicepulse.status.upstream import attached_service_ids

    mentions = list(
        Mention.objects.filter(created_at__gte=since, created_at__lt=until)
        .select_related("case")
        .only("id", "text", "author", "author_id", "source_id", "case__service_id")
    )
    attached = attached_service_ids(mention_ids=[m.pk for m in mentions])
    out = []
    for m in mentions:
        case = getattr(m, "case", None)
        service = (case.service_id if case is not None else None) or attached.get(m.pk)
        out.append(
            Complaint(
                mention_id=m.pk,
                text=m.text,
                author_key=m.author_key,
                service_ids=(service,) if service else (),
            )
        )
    return out
