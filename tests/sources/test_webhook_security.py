"""Security review of the signed webhooks: refusals that must be a 403, never a crash (a 500 tells a prober
which header tripped the code, fills the error log and is not counted as a refused delivery)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.sources.test_slack import SIGNING_SECRET, deliver, fixture, sign
from tests.sources.test_slack import source as source  # the fixture, re-exported for pytest


@pytest.mark.parametrize("stamp", ["\u00b2\u00b3", "1\u00b9", "\u0661\u0662"])
def test_slack_timestamp_of_non_ascii_digits_is_403(source, client: Client, stamp: str) -> None:  # type: ignore[no-untyped-def]
    # Headers arrive decoded as Latin-1, so "²" (0xB2) reaches the check; str.isdigit() says yes, int() says no.
    body = fixture("event_message.json")
    response = deliver(client, body, stamp=stamp, signature=sign(body, stamp, SIGNING_SECRET))
    assert response.status_code == 403
