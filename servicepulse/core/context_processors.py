from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    from servicepulse.accounts.roles import user_role

    user = getattr(request, "user", None)
    role = user_role(user) if user is not None else None
    return {
        "organisation": settings.SERVICEPULSE_ORGANISATION,
        "servicepulse_version": settings.VERSION,
        "time_zone": settings.TIME_ZONE,  # every time a page shows is on this clock
        "user_role": role.value if role is not None else "",
    }
