"""System checks (`servicepulse manage check`, and every command that starts the site): settings the weekly
report reads, caught when servicepulse starts rather than in the Monday job's log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.validators import validate_email


@checks.register(checks.Tags.compatibility)
def report_recipients_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A mistyped address in SERVICEPULSE_REPORT_RECIPIENTS (or the digest's list) is named at start-up; the
    report still goes to the others, so it is a warning, not an error."""
    problems: list[checks.CheckMessage] = []
    for name in ("SERVICEPULSE_REPORT_RECIPIENTS", "SERVICEPULSE_DIGEST_RECIPIENTS"):
        for address in getattr(settings, name, None) or []:
            try:
                validate_email(address)
            except ValidationError:
                problems.append(
                    checks.Warning(
                        f"{name}: {address!r} is not an e-mail address; nothing will be sent to it",
                        hint="Correct it in the environment (addresses separated by commas).",
                        id="servicepulse.W001",
                    )
                )
    return problems
