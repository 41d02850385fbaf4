from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {"organisation": settings.SERVICEPULSE_ORGANISATION, "servicepulse_version": settings.VERSION}
