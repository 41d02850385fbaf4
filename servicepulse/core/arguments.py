"""Argument types for the `servicepulse` commands: a number out of range is a usage error naming the option
(exit 2) before any work starts, not a busy loop, a traceback or a server with no workers."""

from __future__ import annotations

import argparse
import math


def positive_int(value: str) -> int:
    """A whole number of at least 1."""
    return _at_least(value, minimum=1)


def non_negative_int(value: str) -> int:
    """A whole number of at least 0."""
    return _at_least(value, minimum=0)


def positive_seconds(value: str) -> float:
    """A finite number of seconds above 0."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {value!r}")
    return number


def _at_least(value: str, *, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least {minimum}, got {value!r}")
    return number
