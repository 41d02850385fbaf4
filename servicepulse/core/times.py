"""A moment as people read it on the pages, in e-mails, PDFs and commands: the organisation's local date and
time and the zone's name, "25 Oct 2026, 01:30 BST". Templates use the `local_time` filter
(core/templatetags/local_time.py), Python code `local_time_text`: one way to write a time.

Django's `T` (and `e`, `O`) format character leaves the zone out for a time in the hour the clocks repeat, so
`date:"j M Y, H:i T"` wrote "25 Oct 2026, 01:30" for both 01:30 BST and, an hour later, 01:30 GMT: the one
time the name is needed. `timezone.localtime` sets the datetime's fold, so its own `tzname()` tells them apart.
"""

from __future__ import annotations

from datetime import datetime

from django.template.defaultfilters import date
from django.utils import timezone

LOCAL_TIME_FORMAT = "j M Y, H:i"


def local_time_text(moment: datetime) -> str:
    """`moment` (aware) in the current time zone with the zone's name: "25 Oct 2026, 01:30 GMT"."""
    local = timezone.localtime(moment)
    return f"{date(local, LOCAL_TIME_FORMAT)} {local.tzname()}"
