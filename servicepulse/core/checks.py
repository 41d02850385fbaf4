"""Deployment checks (`servicepulse manage check --deploy`, the last step of docs/deployment.md's first
installation): what production would otherwise show the public with the laptop demo's defaults."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility, deploy=True)
def organisation_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """SERVICEPULSE_ORGANISATION left unset names the demo university on the public status page and in
    sign-in e-mails (left as the example's placeholder, that); a warning (the site works), named when the
    deployment is checked."""
    name = settings.SERVICEPULSE_ORGANISATION
    if name == settings.DEMO_ORGANISATION:
        problem = f"is not set: the status page and sign-in e-mails name the demo's {name!r}"
    elif "CHANGE-ME" in name:  # the environment file example's placeholder
        problem = f"is still the example's placeholder ({name!r})"
    else:
        return []
    return [
        checks.Warning(
            f"SERVICEPULSE_ORGANISATION {problem}",
            hint="Set SERVICEPULSE_ORGANISATION (and SERVICEPULSE_TIME_ZONE) in the environment file, then run "
            "`servicepulse manage migrate` so sign-in e-mails take the new name.",
            id="servicepulse.W002",
        )
    ]
