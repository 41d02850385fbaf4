"""The signed links of status-page subscriptions: the opt-in link (an address and the components it names,
valid three days) and the unsubscribe link (subscription ids). Read back by selectors (what a link would
do, shown before the button) and services (doing it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.core import signing

CONFIRM_SALT = "servicepulse.status.subscribe"
UNSUBSCRIBE_SALT = "servicepulse.status.unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=3)
ALL_COMPONENTS = "*"


class StatusError(ValueError):
    """A request to change the status page is invalid; the message says why, for the person."""


def confirm_token(*, address: str, component_ids: list[str]) -> str:
    return signing.dumps({"e": address, "s": component_ids}, salt=CONFIRM_SALT, compress=True)


def confirm_data(token: str) -> dict[str, Any]:
    """{"e": address, "s": component ids or [ALL_COMPONENTS]} of an opt-in link."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise StatusError("this confirmation link has expired: subscribe again") from exc
    except signing.BadSignature as exc:
        raise StatusError("this confirmation link is not valid") from exc
    return data  # type: ignore[no-any-return]


def unsubscribe_token(*, subscription_ids: Iterable[int]) -> str:
    return signing.dumps(sorted(set(subscription_ids)), salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_ids(token: str) -> list[int]:
    try:
        return list(signing.loads(token, salt=UNSUBSCRIBE_SALT))
    except signing.BadSignature as exc:
        raise StatusError("this unsubscribe link is not valid") from exc
