"""Every environment variable servicepulse reads goes through `get_env`.

A required variable that is missing stops start-up with a message naming it, instead of failing later
somewhere deep in a request. See README.md's configuration table for the full list.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = object()


class ConfigurationError(RuntimeError):
    """Raised at start-up when the environment does not describe a runnable servicepulse."""


def str_to_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r} (use true or false)")


def str_to_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def str_to_json_object(value: str) -> dict[str, Any]:
    import json

    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed


def get_env(
    name: str,
    default: Any = _MISSING,
    *,
    cast: Callable[[str], T] | None = None,
    required: bool = False,
) -> Any:
    """Read `name` from the environment, cast it, or fail naming the variable.

    `required=True` (or no default) makes a missing or empty variable a ConfigurationError.
    """
    raw = os.environ.get(name)
    if raw is None or raw == "":
        if required or default is _MISSING:
            raise ConfigurationError(f"environment variable {name} is required but not set")
        return default
    if cast is None:
        return raw
    try:
        return cast(raw)
    except ValueError as exc:
        raise ConfigurationError(f"environment variable {name}: {exc}") from exc
