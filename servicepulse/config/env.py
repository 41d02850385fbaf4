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


def str_to_days(value: str) -> int:
    """A whole number of days, at least 1."""
    try:
        days = int(value.strip())
    except ValueError:
        raise ValueError(f"not a whole number of days: {value!r}") from None
    if days < 1:
        raise ValueError(f"must be at least 1 day (got {days})")
    return days


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


def str_to_networks(value: str) -> list[str]:
    """Comma-separated addresses or networks (10.20.0.0/16, 127.0.0.1), as `ipaddress.ip_network` reads them
    (host bits allowed); a host name is refused here rather than at the first fetch or request."""
    import ipaddress

    items = str_to_list(value)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(
                f"{item!r} is not an IP address or network (write addresses or CIDRs such as 10.20.0.0/16, "
                "separated by commas; host names are not resolved)"
            ) from None
    return items


def str_to_time_zone(value: str) -> str:
    """An IANA time zone name (Europe/London), as Django's TIME_ZONE takes it."""
    import zoneinfo

    name = value.strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not a time zone name (e.g. Europe/London, America/New_York, UTC)"
        ) from None
    return name


def str_to_log_level(value: str) -> str:
    """A level name the logging module knows (info or INFO), in the capitals it requires."""
    import logging

    level = value.strip().upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError(f"{value!r} is not a log level: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


def str_to_choice(*choices: str) -> Callable[[str], str]:
    """A caster accepting exactly one of `choices` (or empty: none)."""

    def cast(value: str) -> str:
        chosen = value.strip()
        if chosen and chosen not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)} (or empty for none)")
        return chosen

    return cast


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
