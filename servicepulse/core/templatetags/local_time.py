"""`{{ moment|local_time }}`: a moment as every page writes it (core/times.py), "25 Oct 2026, 01:30 BST"."""

from __future__ import annotations

from datetime import datetime

from django import template

from servicepulse.core.times import local_time_text

register = template.Library()


@register.filter
def local_time(moment: datetime | None) -> str:
    """`local_time_text` in a template; "" for None, so `|default:"—"` can follow it."""
    return "" if moment is None else local_time_text(moment)
