"""Reading and checking source options: strings from the command line and forms, JSON values from elsewhere."""

from __future__ import annotations

import math
from typing import Any

from servicepulse.core.fetcher import HTTP_SCHEMES, WEBSOCKET_SCHEMES, FetchError, check_url
from servicepulse.sources.registry import OptionSpec, OptionType


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


def check_option(spec: OptionSpec, value: Any) -> None:
    """Raise ValueError saying why `value` will not do for the option `spec`: not of its type, out of its range
    or choices, or a URL the fetcher would refuse. An empty value means "unset" and always does."""
    if value is None or value == "":
        return
    if spec.type is OptionType.BOOLEAN:
        try:
            as_bool(value)
        except ValueError:
            raise ValueError(f"must be true or false, not {value!r}") from None
    elif spec.type in (OptionType.INTEGER, OptionType.NUMBER):
        _check_number(spec, value)
    elif spec.type in (OptionType.URL, OptionType.WEBSOCKET_URL):
        schemes = HTTP_SCHEMES if spec.type is OptionType.URL else (*WEBSOCKET_SCHEMES, *HTTP_SCHEMES)
        try:
            check_url(str(value).strip(), schemes=schemes)
        except FetchError as exc:
            raise ValueError(str(exc)) from None
    if spec.choices and str(value) not in spec.choices:
        raise ValueError(f"must be one of {', '.join(spec.choices)}, not {value!r}")


def _check_number(spec: OptionSpec, value: Any) -> None:
    whole = spec.type is OptionType.INTEGER
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value) if whole else float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a {'whole ' if whole else ''}number, not {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, not {value!r}")
    low, high = spec.minimum, spec.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        if high is None:
            raise ValueError(f"must be at least {low:g}, not {value!r}")
        if low is None:
            raise ValueError(f"must be at most {high:g}, not {value!r}")
        raise ValueError(f"must be between {low:g} and {high:g}, not {value!r}")
