"""The one place where the dashboard reads other apps' selectors.

Other apps (analysis, incidents, experience, sources) are built in parallel with the pages. Each reader here
asks the owning app's selectors for what a page shows and, while that app's part is not there yet, answers
with an honest empty value ("no data") so every page renders. Views and templates only call these readers
and `servicepulse.dashboard.selectors`; they never import another app's models.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any


def app_module(dotted: str) -> ModuleType | None:
    """Import `dotted` (e.g. "servicepulse.incidents.selectors") or None while it does not exist yet."""
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name and dotted.startswith(exc.name):
            return None
        raise


def app_function(dotted: str, name: str) -> Callable[..., Any] | None:
    module = app_module(dotted)
    return getattr(module, name, None) if module is not None else None


def app_model(dotted: str, name: str) -> Any:
    """A model class of another app, or None while it is not there (read only, for querysets and forms)."""
    module = app_module(dotted)
    return getattr(module, name, None) if module is not None else None
