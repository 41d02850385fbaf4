"""The one place where experience reads other apps: the analysis (sentiment, spam, complaint, service tags),
incidents and the inbox's response times. Everything else in experience works on the plain values these
return, so the score and report code does not depend on how those apps store things.

Apps built in parallel may not be there yet: each reader then answers "nothing" (an empty result, or None
for a whole section), and the report says so or leaves the section out.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from servicepulse.experience.themes import ThemePost


def _module(dotted: str) -> ModuleType | None:
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name and dotted.startswith(exc.name):
            return None
        raise


def _function(dotted: str, name: str) -> Callable[..., Any] | None:
    module = _module(dotted)
    return getattr(module, name, None) if module is not None else None


# --- analysis ----------------------------------------------------------------------------------------------


def analysis_ready() -> bool:
    """True once the analysis app stores its results (its models exist)."""
    return _analysis_models() is not None


def _analysis_models() -> ModuleType | None:
    module = _module("servicepulse.analysis.models")
    return module if module is not None and hasattr(module, "MentionAnalysis") else None


@dataclass(frozen=True)
class Counts:
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    complaints: int = 0
    spam: int = 0


def score_counts(
    *, start: datetime, end: datetime, service_ids: list[str] | None = None
) -> dict[str, Counts]:
    """Per service: non-spam mentions in [start, end) by sentiment and complaints; spam counted apart."""
    models = _analysis_models()
    if models is None:
        return {}
    raise NotImplementedError  # replaced when the analysis models land


def complaint_posts(
    *, start: datetime, end: datetime, service_ids: list[str] | None = None, limit: int = 2000
) -> dict[str, list[ThemePost]]:
    """Per service: the non-spam complaints in [start, end), newest first."""
    models = _analysis_models()
    if models is None:
        return {}
    raise NotImplementedError


def complaint_texts(*, start: datetime, end: datetime, limit: int = 3000) -> list[str]:
    """Texts of non-spam complaints about any service in [start, end): the background for themes."""
    models = _analysis_models()
    if models is None:
        return []
    raise NotImplementedError


def daily_counts(*, days: list[datetime]) -> tuple[list[int], list[int]]:
    """Complaints and other non-spam posts per day, for days[i] <= t < days[i+1]."""
    models = _analysis_models()
    if models is None:
        return [0] * (len(days) - 1), [0] * (len(days) - 1)
    raise NotImplementedError


# --- incidents ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentFacts:
    id: Any
    title: str
    service_id: str
    started_at: datetime | None  # when the chatter began (the detector's onset)
    detected_at: datetime | None  # when servicepulse raised it
    resolved_at: datetime | None
    state: str
    affected_authors: int
    url: str = ""

    @property
    def time_to_detect(self) -> timedelta | None:
        if self.started_at is None or self.detected_at is None:
            return None
        return max(self.detected_at - self.started_at, timedelta(0))


def incidents_between(*, start: datetime, end: datetime) -> list[IncidentFacts] | None:
    """Incidents that were open at some time in [start, end), or None while the incidents app has none."""
    return None


# --- inbox -------------------------------------------------------------------------------------------------


def response_times(*, start: datetime, end: datetime) -> list[Any] | None:
    """The inbox's response times per service for cases opened in [start, end), or None without an inbox."""
    fn = _function("servicepulse.engage.selectors", "response_times")
    if fn is None:
        return None
    return list(fn(since=start, until=end).values())
