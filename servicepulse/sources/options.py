"""Reading source options, which arrive as strings from the command line and as JSON values from forms."""

from __future__ import annotations

from typing import Any


def as_bool(value: Any, *, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


def as_list(value: Any) -> list[str]:
    """A list from a JSON list or a comma-separated string; blanks dropped."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def as_int(value: Any, *, default: int) -> int:
    if value is None or value == "":
        return default
    return int(value)


def as_float(value: Any, *, default: float) -> float:
    if value is None or value == "":
        return default
    return float(value)
